// loss_rows.h — how the loss kernels split rows over threads.
#pragma once

#include <algorithm>

#include "common/parallel.h"
#include "losses/losses.h"

namespace pycnn {

// Calls row(r) for every row; rows are spread over threads once the matrix
// is large enough to pay for a fork.
template <typename Row>
void for_each_row(const LossShape& s, Row&& row) {
  int64_t grain = std::max<int64_t>(1, kSerialElementwise / std::max<int64_t>(s.cols, 1));
  parallel_for(s.rows, grain, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) row(r);
  });
}

}  // namespace pycnn
