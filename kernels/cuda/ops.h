#pragma once
// CUDA compute ops of the Mamba block: host launch functions over device pointers. kernels/cuda/
// mirrors kernels/cpu/ file by file (elementwise, gemv, ssm, matmul): each op has a CPU twin of
// the same name in kernels/cpu/ops.h computing the same thing, and tests/gpu compares the two.
// Device-only helpers (to_half, dequantize_to_half, argmax, self_test) have no twin: they
// convert or pick, they do not compute the model. Plain C++ (no CUDA compiler needed to
// include it).
//
// Conventions: activations and state are fp32 device arrays; matrices are fm::MatrixView whose
// pointers (data, or q4.codes/q4.scales/q4.codebook) are device pointers; every function
// enqueues work on ex.stream and returns at once. A failed launch returns an Error naming the
// kernel; nothing aborts. Shapes as in kernels/cpu/ops.h: T tokens, H hidden, I inner, N state,
// R dt rank, K conv width, V vocabulary.

#include <cuda_runtime_api.h>

#include <cstdint>

#include "inference/core/result.h"
#include "kernels/common/kernel_params.h"
#include "kernels/common/matrix_view.h"

typedef struct cublasContext* cublasHandle_t;

namespace fm::cuda {

// Where and how kernels are launched.
struct Exec {
    cudaStream_t stream = nullptr;
    bool pdl = false;            // programmatic dependent launch (compute capability 9.0+ only)
    int sm_count = 0;            // multiprocessors; 0: asked from the current device
    int compute_capability = 0;  // major * 10 + minor; 0: asked from the current device
};

namespace detail {
// Number of multiprocessors / compute capability (major * 10 + minor) of the current device,
// unless the Exec says.
int sm_count(const Exec& ex);
int compute_capability(const Exec& ex);
}  // namespace detail

// ---- elementwise and normalisation --------------------------------------------------------

// out[t, :] = table[ids[t], :]; ids on the device; an id outside [0, rows) gives a zero row.
Status embedding(const MatrixView& table, const int32_t* ids, int64_t T, float* out, int64_t ldo, const Exec& ex);

// out[t, :] = rms(x[t, :], eps) * weight (weight may be nullptr). out may alias x.
Status rms_norm(const float* x, int64_t ldx, const float* weight, int64_t T, int64_t n, float eps, float* out,
                int64_t ldo, const Exec& ex);

// The three weightless norms of Falcon Mamba in one launch, in place on the x_proj output
// dbc [T, R+2N] (row stride ld): d = rms(d), B = rms(B), C = rms(C), all with eps.
Status bcdt_rms_norm(float* dbc, int64_t ld, int64_t T, int64_t R, int64_t N, float eps, const Exec& ex);

// hi[t, c] = bf16(x[t, c]) (or f16 when `as_f16` is set), dense [T, cols]; when lo is given it
// receives the rounding remainder, so hi + lo carries ~16 bits of mantissa (precise prefill).
Status to_half(const float* x, int64_t ldx, int64_t T, int64_t cols, bool as_f16, uint16_t* hi, uint16_t* lo,
               const Exec& ex);

// Dense bf16 (or f16 when as_f16) copy of a matrix of any dtype (Q4 dequantized as
// codebook[code] * scale).
Status dequantize_to_half(const MatrixView& W, bool as_f16, uint16_t* out, const Exec& ex);

// out[0] = index of the largest of x[0..n) (the first one on ties; NaN never wins).
Status argmax(const float* x, int64_t n, int32_t* out, const Exec& ex);

// ---- matrix-vector products (decode, and prefill chunks of a few tokens) ------------------

using Epilogue = ::fm::Epilogue;  // kernels/common/kernel_params.h

// Y[t, r] (ldy) = epilogue(W X[t, :]) for t < T, X [T, cols] (ldx). fp32 accumulation, any
// dtype (BF16/F16/F32/Q4). Reads W once per group of up to 8 tokens. For BiasSoftplus, bias [rows].
Status gemv(const MatrixView& W, const float* X, int64_t ldx, int64_t T, float* Y, int64_t ldy, Epilogue ep,
            const float* bias, const Exec& ex);

// Decode in_proj with the causal conv step fused into its output (one token):
//   u = norm_weight ? rms(h, norm_eps) * norm_weight : h     (the block norm, fused when given)
//   xz = W u;  x = xz[0..I), z = xz[I..2I)
//   xz[0..I) <- silu(conv_step(x) + conv_bias), updating conv_state [I, K-1];  xz[I..2I) <- z
// CPU twin cpu::gemv_conv.
Status gemv_conv(const MatrixView& W, const float* h, const float* norm_weight, float norm_eps, float* xz, int64_t I,
                 int64_t K, const float* conv_weight, const float* conv_bias, float* conv_state, const Exec& ex);

// One token: y = epilogue(W (rms(h, norm_eps) * norm_weight)), the norm fused (lm_head after
// norm_f). CPU twin cpu::rms_gemv.
Status rms_gemv(const MatrixView& W, const float* h, const float* norm_weight, float norm_eps, float* y, Epilogue ep,
                const float* bias, const Exec& ex);

// ---- conv and selective scan ----------------------------------------------------------------

// One token: x [I] <- silu(conv(state, x) + bias), state [I, K-1] shifted. CPU twin cpu::conv1d_step.
Status conv1d_step(float* x, int64_t I, int64_t K, const float* weight, const float* bias, float* state,
                   const Exec& ex);

// A chunk of the causal conv (kernel_params.h); out must not overlap x or state. CPU twin
// cpu::conv1d_chunk (which may also work in place).
Status conv1d_chunk(const ConvParams& p, const Exec& ex);

// One token of the selective scan (kernel_params.h). CPU twin cpu::ssm_step (and
// cpu::selective_scan with T = 1).
Status ssm_step(const ScanStepParams& p, const Exec& ex);

// Decode: everything between x_proj and out_proj in one launch (kernel_params.h).
// CPU twin cpu::dt_ssm_step.
Status dt_ssm_step(const DtScanStepParams& p, const Exec& ex);

// Chunked selective scan from and into the carried state (kernel_params.h); y must not overlap
// the inputs. CPU twin cpu::selective_scan.
Status selective_scan(const ScanParams& p, const Exec& ex);

// ---- prefill matrix products (cuBLAS) -----------------------------------------------------

enum class PrefillPrecision {
    Fast,     // activations rounded to bf16 (f16 for F16 weights, and on GPUs older than compute
              // capability 8.0, which have no bf16 tensor cores), tensor cores, fp32 accumulation
    Precise,  // activations split into hi + lo halves: two products, ~fp32 activations
};

// Device scratch for matmul; sizes in elements. Grown by the caller (see matmul_scratch_need).
struct MatmulScratch {
    uint16_t* act_hi = nullptr;  // [T * cols]
    uint16_t* act_lo = nullptr;  // [T * cols], Precise only
    int64_t act_elements = 0;
    uint16_t* weights = nullptr;  // [rows * cols], dequantized Q4 weights (and f16 copies of bf16 before sm_80)
    int64_t weight_elements = 0;
};

// Largest T for which matmul uses the gemv kernels (fp32 activations) instead of cuBLAS.
inline constexpr int64_t kGemvMaxTokens = 4;

// What matmul needs in `scratch` for this matrix and T on the device of ex.
void matmul_scratch_need(const MatrixView& W, int64_t T, PrefillPrecision p, const Exec& ex, int64_t* act_elements,
                         int64_t* weight_elements);

// Y[t, :] (ldy) = W X[t, :] (or += when accumulate) for X [T, cols] (ldx). T <= kGemvMaxTokens:
// gemv kernels; else cuBLAS (the handle must be bound to ex.stream by the caller).
// CPU twin cpu::matmul (same accumulate flag).
Status matmul(cublasHandle_t blas, const MatrixView& W, const float* X, int64_t T, int64_t ldx, float* Y, int64_t ldy,
              bool accumulate, PrefillPrecision precision, const MatmulScratch& scratch, const Exec& ex);

// ---- device ---------------------------------------------------------------------------------

// Launches a trivial kernel and waits for it: fails when this build has no code for the device.
Status self_test(cudaStream_t stream);

}  // namespace fm::cuda
