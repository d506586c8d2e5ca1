#pragma once
// CPU compute ops of the Mamba block. Each has a CUDA twin of the same name in
// kernels/cuda/ops.cuh, and the CUDA tests compare the two. Activations are fp32; weights are
// read in their stored dtype through MatrixView and converted in registers.
//
// Shapes: T = tokens in the chunk, H = hidden, I = inner (intermediate), N = state size,
// R = dt rank, K = conv kernel width, V = vocabulary.

#include <cstdint>

#include "kernels/common/matrix_view.h"

namespace fm {
class ThreadPool;
}

namespace fm::cpu {

// out[t, :] = table[ids[t], :]            table [V, H] -> out [T, H]
void embedding(const MatrixView& table, const int32_t* ids, int64_t T, float* out);

// out[t, :] = rms(x[t, :], eps) * weight    x [T, n] (row stride ldx), out [T, n] (row stride
// ldo); weight [n], nullptr for the weightless norms of B, C and dt. out may alias x.
void rms_norm(const float* x, int64_t ldx, const float* weight, int64_t T, int64_t n, float eps, float* out,
              int64_t ldo);

// Row r of W as fp32 (any dtype, 4-bit included).            out [cols]
void matrix_row(const MatrixView& W, int64_t r, float* out);

// Y[t, :] = W X[t, :]                       W [rows, cols]; X [T, cols] (row stride ldx);
// Y [T, rows] (row stride ldy). Reads W once per call whatever T is.
void matmul(const MatrixView& W, const float* X, int64_t T, int64_t ldx, float* Y, int64_t ldy, ThreadPool* pool);

// Causal depthwise conv over a chunk, starting from and updating the carried state, then SiLU.
// x [T, I] (row stride ldx) is replaced by silu(conv(x) + bias). weight [I, K], bias [I],
// state [I, K-1] holds the last K-1 pre-conv inputs per channel, oldest first.
void conv1d_chunk(float* x, int64_t T, int64_t ldx, int64_t I, int64_t K, const float* weight, const float* bias,
                  float* state);

// Selective scan over a chunk, from and into the carried state (REFERENCE.md §2):
//   dt = softplus(dt_raw + dt_bias); s = exp(dt*A)*s + dt*B*x; y = C.s + D*x; y *= silu(z)
// x [T, I] (ldx), dt_raw [T, I] (pre-bias, pre-softplus, ldd), B, C [T, N] (ldbc),
// z [T, I] (ldz), A [I, N] (already -exp(A_log)), D [I], dt_bias [I], state [I, N].
// y [T, I] (ldy) receives the gated output.
void selective_scan(const float* x, int64_t ldx, const float* dt_raw, int64_t ldd, const float* B, const float* C,
                    int64_t ldbc, const float* z, int64_t ldz, const float* A, const float* D, const float* dt_bias,
                    float* state, float* y, int64_t ldy, int64_t T, int64_t I, int64_t N, ThreadPool* pool);

}  // namespace fm::cpu
