// Matrix products: Y[t, :] = W X[t, :] for T tokens, for every weight dtype.
//
// Design. Each thread takes one contiguous share of W's rows (ThreadPool::parallel_for), so it
// streams its own part of the matrix once per call. One token (decode) goes straight from the
// stored dtype into the dot products (dot.h: bf16/fp32 four rows at once, 4-bit from the codes);
// a chunk of tokens (prefill) converts a tile of rows to fp32 once and multiplies it by all the
// chunk's tokens (detail::gemm_tile), so W is read once per chunk, not once per token. fp32
// matrices need no conversion: the tile is the matrix itself. Every path sums each output in
// the one order of dot.h, so decode equals prefill bit for bit.

#include <algorithm>
#include <vector>

#include "kernels/common/numerics.h"
#include "kernels/cpu/dot.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/q4.h"
#include "kernels/cpu/thread_pool.h"

namespace fm::cpu {
namespace {

using detail::Isa;

// Rows [r0, r0 + rows) of W as fp32, row stride cols.
void fill_tile(const MatrixView& W, int64_t r0, int64_t rows, float* out, Isa isa) {
    const int64_t cols = W.cols;
    switch (W.dtype) {
    case DType::BF16:
        for (int64_t i = 0; i < rows; ++i)
            detail::bf16_to_f32(static_cast<const uint16_t*>(W.data) + (r0 + i) * cols, out + i * cols, cols, isa);
        break;
    case DType::F16: {
        const auto* w = static_cast<const uint16_t*>(W.data) + r0 * cols;
        for (int64_t i = 0; i < rows * cols; ++i) out[i] = num::f16_to_float(w[i]);
        break;
    }
    case DType::Q4: detail::q4_dequantize_rows(W, r0, rows, out, isa); break;
    case DType::F32: std::copy_n(static_cast<const float*>(W.data) + r0 * cols, rows * cols, out); break;
    case DType::U8: std::fill(out, out + rows * cols, 0.0f); break;
    }
}

void matmul_rows(const MatrixView& W, const float* X, int64_t T, int64_t ldx, float* Y, int64_t ldy, bool accumulate,
                 ThreadPool* pool, Isa isa) {
    const int64_t rows = W.rows, cols = W.cols;
    if (rows <= 0 || T <= 0) return;
    if (cols <= 0 || (W.dtype == DType::Q4 && W.q4.block <= 0) || W.dtype == DType::U8) {
        if (!accumulate)
            for (int64_t t = 0; t < T; ++t) std::fill(Y + t * ldy, Y + t * ldy + rows, 0.0f);
        return;
    }
    isa = detail::resolve(isa);
    const bool streamed = T == 1 && W.dtype != DType::F16;
    auto decode = [&](int64_t r0, int64_t r1) {
        switch (W.dtype) {
        case DType::F32:
            detail::gemv_f32(static_cast<const float*>(W.data) + r0 * cols, cols, r1 - r0, cols, X, Y + r0, accumulate,
                             isa);
            break;
        case DType::BF16:
            detail::gemv_bf16(static_cast<const uint16_t*>(W.data) + r0 * cols, cols, r1 - r0, cols, X, Y + r0,
                              accumulate, isa);
            break;
        default: detail::q4_gemv_rows(W, r0, r1, X, Y, accumulate, isa); break;
        }
    };
    // A tile of up to 16 rows and at most 256 KiB of fp32: it stays in L2 while every token of
    // the chunk passes over it.
    const int64_t tile = std::clamp<int64_t>(((int64_t{1} << 16) / cols) / 2 * 2, 2, 16);
    auto prefill = [&](int64_t r0, int64_t r1) {
        thread_local std::vector<float> buf;
        for (int64_t rt = r0; rt < r1; rt += tile) {
            const int64_t nr = std::min(tile, r1 - rt);
            const float* w = nullptr;
            if (W.dtype == DType::F32) {
                w = static_cast<const float*>(W.data) + rt * cols;
            } else {
                buf.resize(static_cast<size_t>(tile * cols));
                fill_tile(W, rt, nr, buf.data(), isa);
                w = buf.data();
            }
            detail::gemm_tile(w, cols, nr, cols, X, T, ldx, Y + rt, ldy, accumulate, isa);
        }
    };
    // Shares in whole groups of rows: four for the decode kernels, a tile for prefill.
    const int64_t grain = streamed ? 4 : tile;
    auto work = [&](int64_t r0, int64_t r1) { streamed ? decode(r0, r1) : prefill(r0, r1); };
    if (pool)
        pool->parallel_for(rows, grain, work);
    else
        work(0, rows);
}

}  // namespace

void matmul(const MatrixView& W, const float* X, int64_t T, int64_t ldx, float* Y, int64_t ldy, bool accumulate,
            ThreadPool* pool) {
    matmul_rows(W, X, T, ldx, Y, ldy, accumulate, pool, Isa::Auto);
}

void matmul_q4(const MatrixView& W, const float* X, int64_t T, int64_t ldx, float* Y, int64_t ldy, ThreadPool* pool,
               Q4Isa isa) {
    matmul_rows(W, X, T, ldx, Y, ldy, false, pool, isa);
}

}  // namespace fm::cpu
