#pragma once
// CPU compute ops of the Mamba block. kernels/cpu/ mirrors kernels/cuda/ file by file and op
// by op: each op here has a CUDA twin of the same name in the same-named file there
// (elementwise, gemv, ssm, matmul), and tests/gpu compares each pair. These CPU ops are also the
// plain references: fp32 activations, weights read in their stored dtype through MatrixView and
// converted in registers, a fixed summation order.
//
// Shapes: T tokens in the chunk, H hidden, I inner (intermediate), N state size, R dt rank,
// K conv width, V vocabulary. "ld" arguments are row strides in elements.

#include <cstdint>

#include "kernels/common/kernel_params.h"
#include "kernels/common/matrix_view.h"
#include "kernels/cpu/dot.h"

namespace fm {
class ThreadPool;
}

namespace fm::cpu {

// ---- elementwise and normalisation (elementwise.cpp | cuda/elementwise.cu) -----------------

// out[t, :] = table[ids[t], :]            table [V, H] -> out [T, H] (row stride ldo)
void embedding(const MatrixView& table, const int32_t* ids, int64_t T, float* out, int64_t ldo);

// out[t, :] = rms(x[t, :], eps) * weight    x [T, n] (ldx), out [T, n] (ldo); weight [n], or
// nullptr for the weightless norms of B, C and dt. out may alias x.
void rms_norm(const float* x, int64_t ldx, const float* weight, int64_t T, int64_t n, float eps, float* out,
              int64_t ldo);

// Falcon Mamba's three weightless norms, in place on x_proj's output dbc [T, R+2N] (ld):
// d = rms(d), B = rms(B), C = rms(C), all with eps.
void bcdt_rms_norm(float* dbc, int64_t ld, int64_t T, int64_t R, int64_t N, float eps);

// Row r of W as fp32 (any dtype, 4-bit included).            out [cols]
void matrix_row(const MatrixView& W, int64_t r, float* out);

// ---- matrix-vector products for decode (gemv.cpp | cuda/gemv.cu) ---------------------------

// Y[t, r] (ldy) = epilogue(W X[t, :]) for t < T, X [T, cols] (ldx). For BiasSoftplus, bias [rows].
void gemv(const MatrixView& W, const float* X, int64_t ldx, int64_t T, float* Y, int64_t ldy, Epilogue ep,
          const float* bias, ThreadPool* pool);

// One token of in_proj with the block norm before it and the conv step after it:
//   u = norm_weight ? rms(h, norm_eps) * norm_weight : h;  xz = W u  (x = xz[0..I), z = xz[I..2I))
//   xz[0..I) <- silu(conv_step(x) + conv_bias), updating conv_state [I, K-1].
void gemv_conv(const MatrixView& W, const float* h, const float* norm_weight, float norm_eps, float* xz, int64_t I,
               int64_t K, const float* conv_weight, const float* conv_bias, float* conv_state, ThreadPool* pool);

// One token: y = epilogue(W (rms(h, norm_eps) * norm_weight)) (lm_head after norm_f).
void rms_gemv(const MatrixView& W, const float* h, const float* norm_weight, float norm_eps, float* y, Epilogue ep,
              const float* bias, ThreadPool* pool);

// ---- conv and selective scan (ssm.cpp | cuda/ssm.cu) ---------------------------------------

// One token of the causal conv: x [I] <- silu(conv(state, x) + bias); state [I, K-1] shifted.
void conv1d_step(float* x, int64_t I, int64_t K, const float* weight, const float* bias, float* state);

// A chunk of the causal conv (kernel_params.h); out may alias x.
void conv1d_chunk(const ConvParams& p);

// One token of the selective scan (kernel_params.h).
void ssm_step(const ScanStepParams& p, ThreadPool* pool);

// Decode: everything between x_proj and out_proj (kernel_params.h).
void dt_ssm_step(const DtScanStepParams& p, ThreadPool* pool);

// A chunk of the selective scan (kernel_params.h).
void selective_scan(const ScanParams& p, ThreadPool* pool);

// ---- matrix products for prefill chunks (matmul.cpp | cuda/matmul.cpp) ---------------------

// Y[t, :] (ldy) = W X[t, :] (or += when accumulate) for X [T, cols] (ldx). Reads W once per
// call whatever T is. 4-bit matrices go to kernels/cpu/q4.h.
void matmul(const MatrixView& W, const float* X, int64_t T, int64_t ldx, float* Y, int64_t ldy, bool accumulate,
            ThreadPool* pool);

// The conv and scan with their twin named (dot.h: Isa), so tests can compare the two.
namespace detail {
void conv1d_chunk_isa(const ConvParams& p, Isa isa);
void selective_scan_isa(const ScanParams& p, ThreadPool* pool, Isa isa);
}  // namespace detail

}  // namespace fm::cpu
