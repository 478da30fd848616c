// bind_gemm.cpp — Python binding of sgemm (pycnn.ops.gemm validates first).
#include "bindings/bindings.h"
#include "gemm/gemm.h"

namespace pycnn {

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
