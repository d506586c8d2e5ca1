#include "kernels/cpu/ops.h"
#include "kernels/cpu/ops_q4.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/common/numerics.h"
#include "kernels/cpu/thread_pool.h"

// Hot dot products are compiled twice, for x86-64-v3 (AVX2 + FMA) and the baseline, and the
// loader picks one at run time, so one binary is fast on new CPUs and still runs on old ones.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define FM_MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define FM_MULTIVERSION
#endif

namespace fm::cpu {
namespace {

// Eight independent accumulators: lets the compiler vectorize without -ffast-math, and the
// summation order is fixed, so results do not depend on the thread count.
FM_MULTIVERSION float dot_f32(const float* a, const float* b, int64_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
    float tail = 0.0f;
    for (; i < n; ++i) tail += a[i] * b[i];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}

FM_MULTIVERSION float dot_bf16(const uint16_t* w, const float* x, int64_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) {
            uint32_t bits = static_cast<uint32_t>(w[i + j]) << 16;
            float f;
            std::memcpy(&f, &bits, 4);
            acc[j] += f * x[i + j];
        }
    float tail = 0.0f;
    for (; i < n; ++i) tail += num::bf16_to_float(w[i]) * x[i];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}

FM_MULTIVERSION void bf16_to_f32_row(const uint16_t* w, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        uint32_t bits = static_cast<uint32_t>(w[i]) << 16;
        std::memcpy(&out[i], &bits, 4);
    }
}

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
    case DType::BF16: bf16_to_f32_row(static_cast<const uint16_t*>(W.data) + r * n, out, n); break;
    case DType::F16: {
        const auto* w = static_cast<const uint16_t*>(W.data) + r * n;
        for (int64_t i = 0; i < n; ++i) out[i] = num::f16_to_float(w[i]);
        break;
    }
    case DType::Q4: q4_row(W, r, out); break;
    case DType::U8: std::fill(out, out + n, 0.0f); break;
    }
}

void embedding(const MatrixView& table, const int32_t* ids, int64_t T, float* out) {
    for (int64_t t = 0; t < T; ++t) matrix_row(table, ids[t], out + t * table.cols);
}

void rms_norm(const float* x, int64_t ldx, const float* weight, int64_t T, int64_t n, float eps, float* out,
              int64_t ldo) {
    for (int64_t t = 0; t < T; ++t) {
        const float* xr = x + t * ldx;
        float* o = out + t * ldo;
        const float scale = num::rms_scale(dot_f32(xr, xr, n), static_cast<int>(n), eps);
        if (weight)
            for (int64_t i = 0; i < n; ++i) o[i] = xr[i] * scale * weight[i];
        else
            for (int64_t i = 0; i < n; ++i) o[i] = xr[i] * scale;
    }
}

void matmul(const MatrixView& W, const float* X, int64_t T, int64_t ldx, float* Y, int64_t ldy, ThreadPool* pool) {
    if (W.dtype == DType::Q4) return matmul_q4(W, X, T, ldx, Y, ldy, pool);  // kernels/cpu/ops_q4.cpp
    const int64_t rows = W.rows, cols = W.cols;
    auto work = [&](int64_t r0, int64_t r1) {
        if (T == 1 && W.dtype == DType::BF16) {
            // Decode: stream the bf16 row straight into the dot product, no staging buffer.
            const auto* w = static_cast<const uint16_t*>(W.data);
            for (int64_t r = r0; r < r1; ++r) Y[r] = dot_bf16(w + r * cols, X, cols);
            return;
        }
        if (W.dtype == DType::F32) {
            const auto* w = static_cast<const float*>(W.data);
            for (int64_t r = r0; r < r1; ++r)
                for (int64_t t = 0; t < T; ++t) Y[t * ldy + r] = dot_f32(w + r * cols, X + t * ldx, cols);
            return;
        }
        // Convert each weight row once, then use it for every token of the chunk.
        thread_local std::vector<float> row;
        row.resize(static_cast<size_t>(cols));
        for (int64_t r = r0; r < r1; ++r) {
            matrix_row(W, r, row.data());
            for (int64_t t = 0; t < T; ++t) Y[t * ldy + r] = dot_f32(row.data(), X + t * ldx, cols);
        }
    };
    // Enough rows per task that each one streams at least ~64 KiB of weights.
    const int64_t grain =
        std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, W.bytes() / std::max<int64_t>(1, rows)));
    if (pool)
        pool->parallel_for(rows, grain, work);
    else
        work(0, rows);
}

void conv1d_chunk(float* x, int64_t T, int64_t ldx, int64_t I, int64_t K, const float* weight, const float* bias,
                  float* state) {
    const int64_t W = K - 1;
    std::vector<float> last(static_cast<size_t>(W));
    for (int64_t i = 0; i < I; ++i) {
        const float* w = weight + i * K;
        float* st = state + i * W;
        // The new state is the last K-1 inputs of [state, x], taken before x is overwritten.
        for (int64_t j = 0; j < W; ++j) {
            const int64_t src = T - W + j;  // index into x; negative -> old state
            last[static_cast<size_t>(j)] = src >= 0 ? x[src * ldx + i] : st[W + src];
        }
        // Backwards, so each output overwrites an input no later output needs.
        for (int64_t t = T - 1; t >= 0; --t) {
            float acc = bias[i];
            for (int64_t k = 0; k < K; ++k) {
                const int64_t src = t - (K - 1) + k;
                const float v = src >= 0 ? x[src * ldx + i] : st[W + src];
                acc += w[k] * v;
            }
            x[t * ldx + i] = num::silu(acc);
        }
        std::copy(last.begin(), last.end(), st);
    }
}

void selective_scan(const float* x, int64_t ldx, const float* dt_raw, int64_t ldd, const float* B, const float* C,
                    int64_t ldbc, const float* z, int64_t ldz, const float* A, const float* D, const float* dt_bias,
                    float* state, float* y, int64_t ldy, int64_t T, int64_t I, int64_t N, ThreadPool* pool) {
    auto work = [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
            float* s = state + i * N;
            const float* a = A + i * N;
            for (int64_t t = 0; t < T; ++t) {
                const float xv = x[t * ldx + i];
                const float dt = num::softplus(dt_raw[t * ldd + i] + dt_bias[i]);
                const float* b = B + t * ldbc;
                const float* c = C + t * ldbc;
                float acc = 0.0f;
                for (int64_t n = 0; n < N; ++n) {
                    s[n] = num::ssm_update(s[n], dt, a[n], b[n], xv);
                    acc += s[n] * c[n];
                }
                const float out = acc + D[i] * xv;
                y[t * ldy + i] = out * num::silu(z[t * ldz + i]);
            }
        }
    };
    if (pool)
        pool->parallel_for(I, 64, work);
    else
        work(0, I);
}

}  // namespace fm::cpu
