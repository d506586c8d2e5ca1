// Matrix products for prefill chunks: each weight row is converted to fp32 once and used for
// every token of the chunk, rows split among the pool's threads in tasks of at least ~64 KiB of
// weights. bf16 decode (T = 1) streams the row straight into the dot product.

#include <algorithm>
#include <vector>

#include "kernels/cpu/dot.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/q4.h"
#include "kernels/cpu/thread_pool.h"

namespace fm::cpu {

void matmul(const MatrixView& W, const float* X, int64_t T, int64_t ldx, float* Y, int64_t ldy, bool accumulate,
            ThreadPool* pool) {
    if (W.dtype == DType::Q4) {
        if (!accumulate) return matmul_q4(W, X, T, ldx, Y, ldy, pool);
        std::vector<float> product(static_cast<size_t>(T * W.rows));
        matmul_q4(W, X, T, ldx, product.data(), W.rows, pool);
        for (int64_t t = 0; t < T; ++t)
            for (int64_t r = 0; r < W.rows; ++r) Y[t * ldy + r] += product[static_cast<size_t>(t * W.rows + r)];
        return;
    }
    const int64_t rows = W.rows, cols = W.cols;
    auto put = [&](int64_t t, int64_t r, float v) {
        float& y = Y[t * ldy + r];
        y = accumulate ? y + v : v;
    };
    auto work = [&](int64_t r0, int64_t r1) {
        if (T == 1 && W.dtype == DType::BF16) {
            const auto* w = static_cast<const uint16_t*>(W.data);
            for (int64_t r = r0; r < r1; ++r) put(0, r, detail::dot_bf16(w + r * cols, X, cols));
            return;
        }
        if (W.dtype == DType::F32) {
            const auto* w = static_cast<const float*>(W.data);
            for (int64_t r = r0; r < r1; ++r)
                for (int64_t t = 0; t < T; ++t) put(t, r, detail::dot_f32(w + r * cols, X + t * ldx, cols));
            return;
        }
        thread_local std::vector<float> row;
        row.resize(static_cast<size_t>(cols));
        for (int64_t r = r0; r < r1; ++r) {
            matrix_row(W, r, row.data());
            for (int64_t t = 0; t < T; ++t) put(t, r, detail::dot_f32(row.data(), X + t * ldx, cols));
        }
    };
    const int64_t grain =
        std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, W.bytes() / std::max<int64_t>(1, rows)));
    if (pool)
        pool->parallel_for(rows, grain, work);
    else
        work(0, rows);
}

}  // namespace fm::cpu
