// bind_gemm.cpp — Python bindings of sgemm: the checked entry and the fast lane.
#include "bindings/bindings.h"
#include "bindings/fast_lane.h"
#include "gemm/gemm.h"

namespace pycnn {
namespace {

// The fast lane (fast_lane.h): the same product when a and b are float32
// with contiguous rows, c is None or a C-contiguous float32 (m, n), the
// flags are bools and alpha, beta floats; else None.
py::object gemm_fast(PyObject* const* args) {
  const py::handle a_in = args[0], b_in = args[1], c_in = args[2], trans_a_in = args[3], trans_b_in = args[4],
                 alpha_in = args[5], beta_in = args[6];
  py::array a = fast::no_array(), b = fast::no_array(), c = fast::no_array();
  bool trans_a, trans_b;
  double alpha, beta;
  if (!fast::float_array(a_in, a, false) || !fast::float_array(b_in, b, false) || a.ndim() != 2 ||
      b.ndim() != 2 || !fast::flag(trans_a_in, trans_a) || !fast::flag(trans_b_in, trans_b) ||
      !fast::real(alpha_in, alpha) || !fast::real(beta_in, beta))
    return py::none();
  // Rows contiguous and apart by a whole number of floats (the leading
  // dimension); empty arrays go the checked way.
  for (const py::array* x : {&a, &b})
    if (x->size() == 0 || x->strides(1) != sizeof(float) || x->strides(0) % sizeof(float) != 0 ||
        x->strides(0) < x->shape(1) * py::ssize_t(sizeof(float)))
      return py::none();
  const int64_t m_ = trans_a ? a.shape(1) : a.shape(0), k = trans_a ? a.shape(0) : a.shape(1);
  const int64_t n = trans_b ? b.shape(0) : b.shape(1);
  if ((trans_b ? b.shape(1) : b.shape(0)) != k || n > kMaxElements / int64_t(sizeof(float)) / m_)
    return py::none();
  // beta is rounded to float32 as in the checked entry; c, when given,
  // must fit even if it is not read.
  const bool read_c = float(beta) != 0.f;
  if (c_in.is_none() ? read_c
                     : !fast::float_array(c_in, c) || c.ndim() != 2 || c.shape(0) != m_ || c.shape(1) != n)
    return py::none();
  const py::ssize_t shape[2] = {m_, n};
  py::array_t<float> out = fast::new_array(shape, 2);
  float* pc = out.mutable_data();
  if (read_c) std::memcpy(pc, c.data(), sizeof(float) * size_t(m_ * n));
  const int64_t lda = a.strides(0) / py::ssize_t(sizeof(float)), ldb = b.strides(0) / py::ssize_t(sizeof(float));
  const float* pa = static_cast<const float*>(a.data());
  const float* pb = static_cast<const float*>(b.data());
  // A multiply-add counts as an eighth of an element-wise kernel's element.
  fast::run_kernel(double(m_) * double(n) * double(k) / 8, [&] {
    sgemm(trans_a, trans_b, m_, n, k, float(alpha), pa, lda, pb, ldb, float(beta), pc, n);
  });
  return std::move(out);
}

}  // namespace

void bind_gemm(py::module_& m) {
  // alpha * op(a) @ op(b) + beta * c as a new float32 (m, n) array; a and b
  // are 2-D float32 arrays whose rows may be strided (the row stride becomes
  // the leading dimension), c (float32, C-contiguous) is read only when
  // beta != 0. Every check lives here, so a small product costs one call.
  m.def("gemm", [](py::array_t<float> a, py::array_t<float> b, std::optional<FloatArray> c, bool trans_a,
                   bool trans_b, float alpha, float beta) {
    const char* op = "gemm";
    require_rank(a, 2, op, "a", "(rows, cols)");
    require_rank(b, 2, op, "b", "(rows, cols)");
    for (const py::array* arr : {static_cast<const py::array*>(&a), static_cast<const py::array*>(&b)})
      check(arr->size() == 0 || (arr->strides(1) == sizeof(float) && arr->strides(0) % sizeof(float) == 0 &&
                                 arr->strides(0) >= arr->shape(1) * py::ssize_t(sizeof(float))),
            op, "expected arrays with contiguous rows");
    const int64_t m_ = trans_a ? a.shape(1) : a.shape(0), k = trans_a ? a.shape(0) : a.shape(1);
    const int64_t kb = trans_b ? b.shape(1) : b.shape(0), n = trans_b ? b.shape(0) : b.shape(1);
    check(k == kb, op, "inner dimensions differ: op(a) has shape (", m_, ", ", k, "), op(b) has shape (", kb,
          ", ", n, ")");
    if (c) check(c->ndim() == 2 && c->shape(0) == m_ && c->shape(1) == n, op, "expected c of shape (", m_, ", ", n,
                 "), got ", shape_str(*c));
    check(beta == 0.f || c, op, "beta != 0 needs `c`");
    // Empty arrays may carry any strides; their leading dimension is nominal.
    auto leading_dim = [](const py::array& x) {
      return std::max<int64_t>(1, x.size() == 0 ? x.shape(1) : x.strides(0) / py::ssize_t(sizeof(float)));
    };
    const int64_t lda = leading_dim(a), ldb = leading_dim(b), ldc = std::max<int64_t>(1, n);
    py::array_t<float> out = empty_array({m_, n}, op);
    gemm_check(trans_a, trans_b, m_, n, k, lda, ldb, ldc);
    float* pc = out.mutable_data();
    if (beta != 0.f) std::copy(c->data(), c->data() + c->size(), pc);
    const float* pa = a.data();
    const float* pb = b.data();
    {
      py::gil_scoped_release release;
      sgemm(trans_a, trans_b, m_, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    }
    return out;
  }, py::arg("a"), py::arg("b"), py::arg("c"), py::arg("trans_a"), py::arg("trans_b"), py::arg("alpha"),
     py::arg("beta"));

  fast::def<gemm_fast, 7>(m, "gemm_fast",
                          "gemm_fast(a, b, c, trans_a, trans_b, alpha, beta): the fast lane of pycnn.ops.gemm");

  // Test hook for the fused epilogue: out = act(a @ b + bias), out written
  // without being read (the tests fill it with NaN first).
  m.def("gemm_epilogue", [](FloatArray a, FloatArray b, FloatArray out, FloatArray bias, int activation,
                            float alpha) {
    const char* op = "gemm";
    require_rank(a, 2, op, "a", "(m, k)");
    require_rank(b, 2, op, "b", "(k, n)");
    check(out.ndim() == 2 && out.shape(0) == a.shape(0) && out.shape(1) == b.shape(1) && a.shape(1) == b.shape(0)
              && bias.ndim() == 1 && bias.shape(0) == b.shape(1), op, "inconsistent shapes");
    check(activation >= 0 && activation <= int(Activation::kTanh), op, "unknown activation ", activation);
    GemmEpilogue ep;
    ep.bias = bias.data();
    ep.activation = {static_cast<Activation>(activation), alpha};
    const int64_t m_ = a.shape(0), k = a.shape(1), n = b.shape(1);
    const float* pa = a.data();
    const float* pb = b.data();
    float* po = out.mutable_data();
    py::gil_scoped_release release;
    sgemm(false, false, m_, n, k, 1.f, pa, std::max<int64_t>(1, k), pb, std::max<int64_t>(1, n), 0.f, po,
          std::max<int64_t>(1, n), ep);
  });
}

}  // namespace pycnn
