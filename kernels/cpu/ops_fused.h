#pragma once
// CPU twins of the fused single-token (decode) ops of the CUDA backend (kernels/cuda/ops.h).
// Each is the composition of the reference ops in kernels/cpu/ops.h, written out for one token,
// so the CUDA tests can compare fused kernels against something that is obviously right.

#include <cstdint>

#include "kernels/common/matrix_view.h"

namespace fm::cpu {

// One token of the causal conv: x [I] <- silu(conv(state, x) + bias); state [I, K-1] shifted.
// Same as conv1d_chunk with T = 1.
void conv1d_step(float* x, int64_t I, int64_t K, const float* weight, const float* bias, float* state);

// One token of the selective scan with dt already final (softplus(dt_proj(d) + bias)):
// s = exp(dt*A)*s + dt*B*x; y = (C.s + D*x) * silu(z).  x, dt, z, y [I]; B, C [N]; A, state [I, N].
void ssm_step(const float* x, const float* dt, const float* B, const float* C, const float* z, const float* A,
              const float* D, float* state, float* y, int64_t I, int64_t N);

// y = softplus(W x + bias) for one token: dt_proj with its bias and activation.
void matmul_bias_softplus(const MatrixView& W, const float* x, const float* bias, float* y);

}  // namespace fm::cpu
