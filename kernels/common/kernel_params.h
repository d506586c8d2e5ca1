#pragma once
// Parameter structs shared by the CPU and CUDA twins of the selective-scan and conv ops
// (kernels/cpu/ops.h, kernels/cuda/ops.h): shapes, pointers and row strides in one place, so a
// call names each argument and the two backends cannot disagree on their order. Pointers are
// host pointers for the CPU ops and device pointers for the CUDA ops.
//
// Shapes: T tokens, I inner channels, N state size, K conv width. "ld" is a row stride in
// elements (rows of a [T, n] activation need not be contiguous: x and z live side by side in
// in_proj's [T, 2I] output).

#include <cstdint>

#include "kernels/common/matrix_view.h"

namespace fm {

// What a matrix-vector product does with its result.
enum class Epilogue : int32_t {
    Store = 0,         // y = W x
    Accumulate = 1,    // y += W x          (the residual add fused into out_proj)
    BiasSoftplus = 2,  // y = softplus(W x + bias)   (dt_proj)
};

// Causal depthwise conv over a chunk, from and into the carried state, then SiLU:
//   out[t, i] = silu(bias[i] + sum_k weight[i, k] * [state | x][t + k, i])
// The state holds the last K-1 pre-conv inputs per channel, oldest first, and is updated.
struct ConvParams {
    int64_t T = 0, I = 0, K = 0;
    const float* x = nullptr;  // [T, I]
    int64_t ldx = 0;
    float* out = nullptr;  // [T, I]; the CPU op allows out == x (in place), the CUDA op does not
    int64_t ldo = 0;
    const float* weight = nullptr;  // [I, K]
    const float* bias = nullptr;    // [I]
    float* state = nullptr;         // [I, K-1]
};

// Selective scan over a chunk, from and into the carried state (docs/model.md, "The mixer"):
//   dt = softplus(dt_raw + dt_bias); s = exp(dt*A)*s + dt*B*x; y = (C.s + D*x) * silu(z)
struct ScanParams {
    int64_t T = 0, I = 0, N = 0;
    const float* x = nullptr;  // [T, I] conv output
    int64_t ldx = 0;
    const float* dt_raw = nullptr;  // [T, I] dt_proj output, before bias and softplus
    int64_t ldd = 0;
    const float* B = nullptr;  // [T, N]
    const float* C = nullptr;  // [T, N]
    int64_t ldbc = 0;
    const float* z = nullptr;  // [T, I] gate
    int64_t ldz = 0;
    const float* A = nullptr;        // [I, N], already -exp(A_log)
    const float* D = nullptr;        // [I]
    const float* dt_bias = nullptr;  // [I]
    float* state = nullptr;          // [I, N]
    float* y = nullptr;              // [T, I] gated output; must not overlap the inputs
    int64_t ldy = 0;
};

// One token of the selective scan: the same with T = 1 and dense vectors. When dt_bias is
// null, dt is final (softplus already applied); otherwise dt = softplus(dt + dt_bias).
struct ScanStepParams {
    int64_t I = 0, N = 0;
    const float* x = nullptr;        // [I]
    const float* dt = nullptr;       // [I]
    const float* dt_bias = nullptr;  // [I] or null
    const float* B = nullptr;        // [N]
    const float* C = nullptr;        // [N]
    const float* z = nullptr;        // [I]
    const float* A = nullptr;        // [I, N]
    const float* D = nullptr;        // [I]
    float* state = nullptr;          // [I, N]
    float* y = nullptr;              // [I]
};

// Decode: everything between x_proj and out_proj in one op. dbc [R+2N] is x_proj's output
// (left as it is); when `norms` is set the weightless RMS norms (eps) are applied to d, B and C
// first; then dt = softplus(dt_proj d + step.dt_bias) and the scan step. step.dt, step.B and
// step.C are not read (they come from dbc).
struct DtScanStepParams {
    MatrixView dt_proj;  // [I, R]
    const float* dbc = nullptr;
    int64_t R = 0;
    bool norms = false;
    float eps = 0;
    ScanStepParams step;
};

}  // namespace fm
