#pragma once
// The CPU 4-bit kernels: matrix-vector / matrix-matrix products on Q4Data matrices
// (kernels/common/matrix_view.h) and the block quantizer used by quantize-on-load.
//
// Numerics. Every path computes each weight as one fp32 product w = codebook[code] * scale and
// accumulates w * x in a fixed order that depends only on the row (never on how rows are split
// among threads, nor on T): two 8-lane accumulators take alternate 8-element chunks of the row,
// they are added, reduced lane-wise in a fixed tree, and a scalar tail is added last: the order
// of kernels/cpu/dot.h. So decode (T = 1) and prefill (T > 1) give bit-identical rows, whatever
// the thread count, and the AVX2 and portable paths give the same bits.
//
// Speed. The AVX2 path never materialises the matrix: 8 codes are expanded from 4 bytes with
// variable shifts, looked up in the 16-entry codebook (pre-multiplied by the block's scale) with
// two vpermps and a blend, and fed to an FMA. It needs `cols % block == 0` and
// `block % 16 == 0` (true for every Falcon Mamba matrix at blocksize 64); other shapes take a
// general path that dequantizes each row into a small buffer first, with the same results.
// For T > 1 each row is dequantized once into an fp32 tile and multiplied by the shared tile
// kernel (detail::gemm_tile), which reuses it for all T tokens.

#include <cstdint>

#include "kernels/common/matrix_view.h"
#include "kernels/cpu/dot.h"

namespace fm {
class ThreadPool;
}

namespace fm::cpu {

using Q4Isa = detail::Isa;

// True when this CPU (and this build) can run the AVX2 + FMA path.
bool q4_avx2_available();
// The path Auto resolves to: "avx2" or "portable".
const char* q4_isa_name(Q4Isa isa = Q4Isa::Auto);

// Y[t, :] = W X[t, :] for W of dtype Q4 [rows, cols]; X [T, cols] (row stride ldx), Y [T, rows]
// (row stride ldy). Multi-threaded over rows when pool is given. Asking for Avx2 on a CPU
// without it falls back to the portable path.
void matmul_q4(const MatrixView& W, const float* X, int64_t T, int64_t ldx, float* Y, int64_t ldy, ThreadPool* pool,
               Q4Isa isa = Q4Isa::Auto);

namespace detail {
// The 4-bit row kernels under matmul (kernels/cpu/matmul.cpp). Decode: y[r] = dot(row r, x) (or
// +=) for r in [r0, r1), straight from the codes. Prefill: rows [r0, r0 + rows) as an fp32 tile.
void q4_gemv_rows(const MatrixView& W, int64_t r0, int64_t r1, const float* x, float* y, bool accumulate, Q4Isa isa);
void q4_dequantize_rows(const MatrixView& W, int64_t r0, int64_t rows, float* out, Q4Isa isa);
}  // namespace detail

// Row r of a Q4 matrix as fp32: out[c] = codebook[code] * scale (the reference dequantization).
void dequantize_q4_row(const MatrixView& W, int64_t r, float* out);

// Quantizes n consecutive fp32 weights (n counted from a block boundary) with the given
// codebook, which must be sorted ascending. Writes ceil(n/2) code bytes (element 2k in the high
// nibble; the unused low nibble of an odd last byte is 0) and ceil(n/block) scales. For each
// block the scale is chosen among s = ±m and ±0.9·m (m = the block's largest-magnitude weight,
// with its sign), then refined once by least squares (s = Σ w·q / Σ q·q for the chosen codes);
// the candidate with the smallest squared error wins. Returns the index of the first
// non-finite weight, or -1 when all are finite (non-finite blocks get scale 0).
int64_t quantize_q4_blocks(const float* w, int64_t n, int32_t block, const float* codebook, uint8_t* codes,
                           float* scales, Q4Isa isa = Q4Isa::Auto);

}  // namespace fm::cpu
