// check.h — argument validation shared by every kernel family.
//
// The C++ core trusts nothing: each family's *_shape() function validates its
// arguments here before any memory is touched. Failures throw
// std::invalid_argument with the op name in brackets, which pybind11 turns
// into a Python ValueError: "[conv2d] stride must be >= 1, got 0".
#pragma once

#include <cstdint>
#include <limits>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace pycnn {

// Largest element count a single tensor may have: keeps every byte count
// (elements * 4, plus workspaces) far from int64 overflow.
constexpr int64_t kMaxElements = int64_t(1) << 50;

template <typename... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream os;
  (os << ... << std::forward<Parts>(parts));
  return os.str();
}

// fail("conv2d", "stride must be >= 1, got ", s) -> throws "[conv2d] stride must ..."
template <typename... Parts>
[[noreturn]] void fail(const char* op, Parts&&... parts) {
  throw std::invalid_argument(concat("[", op, "] ", std::forward<Parts>(parts)...));
}

template <typename... Parts>
void check(bool ok, const char* op, Parts&&... parts) {
  if (!ok) fail(op, std::forward<Parts>(parts)...);
}

// ceil(a / b) for a >= 0, b >= 1, without the overflow of (a + b - 1) / b
// when a size, pad or stride is near 2**63.
inline int64_t ceil_div(int64_t a, int64_t b) { return a == 0 ? 0 : 1 + (a - 1) / b; }

// a * b for non-negative sizes, throwing instead of overflowing.
inline int64_t checked_mul(int64_t a, int64_t b, const char* op) {
  if (a < 0 || b < 0) fail(op, "negative size in ", a, " x ", b);
  if (a != 0 && b > kMaxElements / a) fail(op, "size ", a, " x ", b, " is too large");
  return a * b;
}

template <typename... Rest>
int64_t checked_product(const char* op, int64_t first, Rest... rest) {
  int64_t p = first;
  if (p < 0) fail(op, "negative size ", p);
  ((p = checked_mul(p, int64_t(rest), op)), ...);
  return p;
}

// "(2, 28, 28, 3)" — shapes in messages look like numpy's. shape_str() is a
// view, formatted only when streamed: check() passes its message parts
// through untouched unless the check fails, so a passing check costs no
// string (an ostringstream per shape was a microsecond per small-op call).
// The view must not outlive the dimensions it points at.
template <typename It>
struct ShapeText {
  It begin, end;
};

template <typename It>
std::ostream& operator<<(std::ostream& os, const ShapeText<It>& shape) {
  os << "(";
  int64_t n = 0;
  for (It it = shape.begin; it != shape.end; ++it, ++n) os << (n ? ", " : "") << *it;
  return os << (n == 1 ? ",)" : ")");
}

template <typename It>
ShapeText<It> shape_str(It begin, It end) {
  return {begin, end};
}

}  // namespace pycnn
