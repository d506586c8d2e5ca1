// Prefill matrix products: cuBLAS for chunks, the gemv kernels for a few tokens.
// Weights stay in their stored dtype on the device: bf16 (and f16) feed the tensor cores
// directly with the activations rounded to the same 16-bit type (fp32 accumulation and output);
// with PrefillPrecision::Precise the activations are split into hi + lo halves and the product
// is taken twice (accumulating), which keeps ~16 bits of their mantissa. 4-bit matrices are
// dequantized to bf16 scratch first (one pass over the codes per chunk). fp32 weights use plain
// fp32 GEMM (no TF32). Before compute capability 8.0 (Turing), which has no bf16 tensor cores,
// everything goes through f16 instead.

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <climits>
#include <string>

#include "kernels/cuda/ops.h"

namespace fm::cuda {
namespace {

Status blas_status(cublasStatus_t s, const char* what) {
    if (s == CUBLAS_STATUS_SUCCESS) return {};
    return Error{std::string(what) + " failed: " + cublasGetStatusName(s) + ": " + cublasGetStatusString(s)};
}

bool needs_activation_copy(const MatrixView& W) {
    return W.dtype != DType::F32;
}

// Before compute capability 8.0 there are no bf16 tensor cores: bf16 and 4-bit weights are
// converted to f16 (exact for bf16 values inside f16's range) and the activations go as f16.
bool use_f16(const MatrixView& W, const Exec& ex) {
    return W.dtype == DType::F16 || detail::compute_capability(ex) < 80;
}

bool needs_weight_copy(const MatrixView& W, const Exec& ex) {
    return W.dtype == DType::Q4 || (W.dtype == DType::BF16 && use_f16(W, ex));
}

}  // namespace

void matmul_scratch_need(const MatrixView& W, int64_t T, PrefillPrecision, const Exec& ex, int64_t* act_elements,
                         int64_t* weight_elements) {
    *act_elements = 0;
    *weight_elements = 0;
    if (T <= kGemvMaxTokens) return;
    if (needs_activation_copy(W)) *act_elements = T * W.cols;
    if (needs_weight_copy(W, ex)) *weight_elements = W.rows * W.cols;
}

Status matmul(cublasHandle_t blas, const MatrixView& W, const float* X, int64_t T, int64_t ldx, float* Y, int64_t ldy,
              bool accumulate, PrefillPrecision precision, const MatmulScratch& scratch, const Exec& ex) {
    if (T <= 0) return {};
    if (T <= kGemvMaxTokens)
        return gemv(W, X, ldx, T, Y, ldy, accumulate ? Epilogue::Accumulate : Epilogue::Store, nullptr, ex);
    if (!blas) return Error{"matmul: no cuBLAS handle"};
    if (W.rows > INT_MAX || W.cols > INT_MAX || T > INT_MAX || ldx > INT_MAX || ldy > INT_MAX)
        return Error{"matmul: dimensions too large for cuBLAS"};
    if (W.dtype == DType::U8) return Error{"matmul: unsupported dtype U8"};
    const int m = static_cast<int>(W.rows), n = static_cast<int>(T), k = static_cast<int>(W.cols);
    if (auto s = blas_status(cublasSetStream(blas, ex.stream), "cublasSetStream"); !s) return s;
    const float one = 1.0f, beta = accumulate ? 1.0f : 0.0f;
    // Row-major Y[T, rows] is column-major [rows, T]: Y = W^T(col-major [cols, rows])^T * X(col-major [cols, T]).
    if (W.dtype == DType::F32)
        return blas_status(cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &one, W.data, CUDA_R_32F, k, X,
                                        CUDA_R_32F, static_cast<int>(ldx), &beta, Y, CUDA_R_32F, static_cast<int>(ldy),
                                        CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                           "cublasGemmEx (fp32)");
    const bool f16 = use_f16(W, ex);
    const cudaDataType type = f16 ? CUDA_R_16F : CUDA_R_16BF;
    const void* A = W.data;
    if (needs_weight_copy(W, ex)) {
        if (!scratch.weights || scratch.weight_elements < W.rows * W.cols)
            return Error{"matmul: the weight conversion scratch is too small"};
        if (auto s = dequantize_to_half(W, f16, scratch.weights, ex); !s) return s;
        A = scratch.weights;
    }
    const bool precise = precision == PrefillPrecision::Precise;
    if (!scratch.act_hi || scratch.act_elements < T * W.cols || (precise && !scratch.act_lo))
        return Error{"matmul: the activation scratch is too small"};
    if (auto s = to_half(X, ldx, T, W.cols, f16, scratch.act_hi, precise ? scratch.act_lo : nullptr, ex); !s) return s;
    if (auto s = blas_status(
            cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &one, A, type, k, scratch.act_hi, type, k, &beta, Y,
                         CUDA_R_32F, static_cast<int>(ldy), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            "cublasGemmEx (16-bit)");
        !s)
        return s;
    if (!precise) return {};
    return blas_status(
        cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &one, A, type, k, scratch.act_lo, type, k, &one, Y,
                     CUDA_R_32F, static_cast<int>(ldy), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
        "cublasGemmEx (16-bit, low half)");
}

}  // namespace fm::cuda
