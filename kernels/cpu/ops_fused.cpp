#include "kernels/cpu/ops_fused.h"

#include <vector>

#include "kernels/common/numerics.h"
#include "kernels/cpu/ops.h"

namespace fm::cpu {

void conv1d_step(float* x, int64_t I, int64_t K, const float* weight, const float* bias, float* state) {
    conv1d_chunk(x, 1, I, I, K, weight, bias, state);
}

void ssm_step(const float* x, const float* dt, const float* B, const float* C, const float* z, const float* A,
              const float* D, float* state, float* y, int64_t I, int64_t N) {
    for (int64_t i = 0; i < I; ++i) {
        float* s = state + i * N;
        const float* a = A + i * N;
        float acc = 0.0f;
        for (int64_t n = 0; n < N; ++n) {
            s[n] = num::ssm_update(s[n], dt[i], a[n], B[n], x[i]);
            acc += s[n] * C[n];
        }
        y[i] = (acc + D[i] * x[i]) * num::silu(z[i]);
    }
}

void matmul_bias_softplus(const MatrixView& W, const float* x, const float* bias, float* y) {
    matmul(W, x, 1, W.cols, y, W.rows, nullptr);
    for (int64_t r = 0; r < W.rows; ++r) y[r] = num::softplus(y[r] + bias[r]);
}

}  // namespace fm::cpu
