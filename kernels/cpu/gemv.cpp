// Matrix-vector products for decode, with the steps around them that the CUDA twins fuse into
// one kernel (norm before, conv step or bias + softplus after). On the CPU they are the
// reference ops called in sequence: the same arithmetic as a prefill chunk of one token, so
// decode and prefill agree bit for bit.

#include <vector>

#include "kernels/cpu/ops.h"
#include "kernels/cpu/vec_math.h"

namespace fm::cpu {

void gemv(const MatrixView& W, const float* X, int64_t ldx, int64_t T, float* Y, int64_t ldy, Epilogue ep,
          const float* bias, ThreadPool* pool) {
    matmul(W, X, T, ldx, Y, ldy, ep == Epilogue::Accumulate, pool);
    if (ep != Epilogue::BiasSoftplus) return;
    for (int64_t t = 0; t < T; ++t) vmath::softplus_biased(Y + t * ldy, bias, W.rows);
}

void gemv_conv(const MatrixView& W, const float* h, const float* norm_weight, float norm_eps, float* xz, int64_t I,
               int64_t K, const float* conv_weight, const float* conv_bias, float* conv_state, ThreadPool* pool) {
    const float* u = h;
    thread_local std::vector<float> normed;
    if (norm_weight) {
        normed.resize(static_cast<size_t>(W.cols));
        rms_norm(h, W.cols, norm_weight, 1, W.cols, norm_eps, normed.data(), W.cols);
        u = normed.data();
    }
    matmul(W, u, 1, W.cols, xz, W.rows, false, pool);
    conv1d_step(xz, I, K, conv_weight, conv_bias, conv_state);
}

void rms_gemv(const MatrixView& W, const float* h, const float* norm_weight, float norm_eps, float* y, Epilogue ep,
              const float* bias, ThreadPool* pool) {
    thread_local std::vector<float> normed;
    normed.resize(static_cast<size_t>(W.cols));
    rms_norm(h, W.cols, norm_weight, 1, W.cols, norm_eps, normed.data(), W.cols);
    gemv(W, normed.data(), W.cols, 1, y, W.rows, ep, bias, pool);
}

}  // namespace fm::cpu
