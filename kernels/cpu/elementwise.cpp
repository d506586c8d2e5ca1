// Embedding lookup, RMS norms and row conversion: one pass over each row, no threads (these are
// a few percent of a token's time; the matrix products dominate).

#include <algorithm>
#include <cstring>

#include "kernels/common/numerics.h"
#include "kernels/cpu/dot.h"
#include "kernels/cpu/ops.h"

namespace fm::cpu {
namespace {

void q4_row(const MatrixView& W, int64_t r, float* out) {
    const int64_t first = r * W.cols;
    const Q4Data& q = W.q4;
    for (int64_t c = 0; c < W.cols; ++c) {
        const int64_t i = first + c;
        const uint8_t byte = q.codes[i >> 1];
        const int code = (i & 1) ? (byte & 0x0f) : (byte >> 4);
        out[c] = q.codebook[code] * q.scales[i / q.block];
    }
}

}  // namespace

void matrix_row(const MatrixView& W, int64_t r, float* out) {
    const int64_t n = W.cols;
    switch (W.dtype) {
    case DType::F32: std::memcpy(out, static_cast<const float*>(W.data) + r * n, static_cast<size_t>(n) * 4); break;
    case DType::BF16: detail::bf16_to_f32(static_cast<const uint16_t*>(W.data) + r * n, out, n); break;
    case DType::F16: {
        const auto* w = static_cast<const uint16_t*>(W.data) + r * n;
        for (int64_t i = 0; i < n; ++i) out[i] = num::f16_to_float(w[i]);
        break;
    }
    case DType::Q4: q4_row(W, r, out); break;
    case DType::U8: std::fill(out, out + n, 0.0f); break;
    }
}

void embedding(const MatrixView& table, const int32_t* ids, int64_t T, float* out, int64_t ldo) {
    for (int64_t t = 0; t < T; ++t) matrix_row(table, ids[t], out + t * ldo);
}

void rms_norm(const float* x, int64_t ldx, const float* weight, int64_t T, int64_t n, float eps, float* out,
              int64_t ldo) {
    for (int64_t t = 0; t < T; ++t) {
        const float* xr = x + t * ldx;
        float* o = out + t * ldo;
        const float scale = num::rms_scale(detail::dot_f32(xr, xr, n), static_cast<int>(n), eps);
        if (weight)
            for (int64_t i = 0; i < n; ++i) o[i] = xr[i] * scale * weight[i];
        else
            for (int64_t i = 0; i < n; ++i) o[i] = xr[i] * scale;
    }
}

void bcdt_rms_norm(float* dbc, int64_t ld, int64_t T, int64_t R, int64_t N, float eps) {
    rms_norm(dbc + R, ld, nullptr, T, N, eps, dbc + R, ld);          // B
    rms_norm(dbc + R + N, ld, nullptr, T, N, eps, dbc + R + N, ld);  // C
    rms_norm(dbc, ld, nullptr, T, R, eps, dbc, ld);                  // d
}

}  // namespace fm::cpu
