// The causal conv and the selective scan. Both are sequential in time and independent across
// channels, so threads split the channels and each walks its channels' tokens in order.
//
// Design (AVX2). The conv takes 8 channels per vector: its K taps, bias and state are gathered
// once per group of 8, and each token is K fmas and one silu on 8 lanes. The scan takes 8
// channels at a time for what is per channel (softplus of dt, silu of the gate, dt*x, and the
// output (C.s + D*x) * silu(z): vectors of 8 channels), and the state axis N for what is per
// state (exp(dt*A), the update, the C.s dot: two 8-lane halves of N = 16, i.e. the dot.h order
// over the states). The 8 channels' states (8 x N floats) stay in L1 across the chunk's tokens.
// The scalar twins do the same arithmetic one lane at a time, so decode (T = 1) and prefill
// agree bit for bit, and both twins give the same bits.

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/dot.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/simd_avx2.h"
#include "kernels/cpu/thread_pool.h"
#include "kernels/cpu/vec_math.h"

namespace fm::cpu {
namespace {

using detail::Isa;
constexpr int64_t kChannelGrain = 64;

// ---- one channel of the scan, one token: the state update and C.s in the order of dot.h ----

float scan_channel_scalar(float* s, const float* a, const float* B, const float* C, int64_t N, float dt, float dtx) {
    float la[8] = {}, lb[8] = {}, tail = 0.0f;
    int64_t n = 0;
    auto update = [&](int64_t k) {
        s[k] = std::fma(vmath::exp(dt * a[k]), s[k], B[k] * dtx);
        return s[k];
    };
    for (; n + 16 <= N; n += 16)
        for (int k = 0; k < 8; ++k) {
            la[k] = std::fma(update(n + k), C[n + k], la[k]);
            lb[k] = std::fma(update(n + 8 + k), C[n + 8 + k], lb[k]);
        }
    if (n + 8 <= N) {
        for (int k = 0; k < 8; ++k) la[k] = std::fma(update(n + k), C[n + k], la[k]);
        n += 8;
    }
    for (; n < N; ++n) tail = std::fma(update(n), C[n], tail);
    float v[8];
    for (int k = 0; k < 8; ++k) v[k] = la[k] + lb[k];
    const float s0 = v[0] + v[4], s1 = v[1] + v[5], s2 = v[2] + v[6], s3 = v[3] + v[7];
    return ((s0 + s2) + (s1 + s3)) + tail;
}

// Per-channel inputs of one token, already through softplus / silu.
struct ChannelStep {
    float dt, dtx, gate;
};

ChannelStep channel_inputs(const ScanParams& p, bool dt_final, int64_t t, int64_t i) {
    const float x = p.x[t * p.ldx + i];
    const float dt = dt_final ? p.dt_raw[t * p.ldd + i] : vmath::softplus(p.dt_raw[t * p.ldd + i] + p.dt_bias[i]);
    return {dt, dt * x, vmath::silu(p.z[t * p.ldz + i])};
}

void scan_scalar(const ScanParams& p, bool dt_final, int64_t i0, int64_t i1) {
    const int64_t N = p.N;
    for (int64_t i = i0; i < i1; ++i)
        for (int64_t t = 0; t < p.T; ++t) {
            const ChannelStep c = channel_inputs(p, dt_final, t, i);
            const float acc =
                scan_channel_scalar(p.state + i * N, p.A + i * N, p.B + t * p.ldbc, p.C + t * p.ldbc, N, c.dt, c.dtx);
            p.y[t * p.ldy + i] = std::fma(p.D[i], p.x[t * p.ldx + i], acc) * c.gate;
        }
}

void conv_scalar(const ConvParams& p, int64_t i0, int64_t i1) {
    const int64_t T = p.T, K = p.K, W = K - 1;
    std::vector<float> last(static_cast<size_t>(W));
    for (int64_t i = i0; i < i1; ++i) {
        const float* w = p.weight + i * K;
        float* st = p.state + i * W;
        auto input = [&](int64_t src) { return src >= 0 ? p.x[src * p.ldx + i] : st[W + src]; };
        // The new state is the last K-1 inputs of [state, x], taken before x may be overwritten.
        for (int64_t j = 0; j < W; ++j) last[static_cast<size_t>(j)] = input(T - W + j);
        // Backwards, so that in place (out == x) each output overwrites an input no later output needs.
        for (int64_t t = T - 1; t >= 0; --t) {
            float acc = p.bias[i];
            for (int64_t k = 0; k < K; ++k) acc = std::fma(w[k], input(t - W + k), acc);
            p.out[t * p.ldo + i] = vmath::silu(acc);
        }
        std::copy(last.begin(), last.end(), st);
    }
}

// ---- AVX2 twins ----------------------------------------------------------------------------

#if FM_VMATH_X86

FM_VMATH_AVX2 inline __m256 update8(float* s, const float* a, const float* B, __m256 dt, __m256 dtx) {
    const __m256 dA = vmath::exp(_mm256_mul_ps(dt, _mm256_loadu_ps(a)));
    const __m256 v = _mm256_fmadd_ps(dA, _mm256_loadu_ps(s), _mm256_mul_ps(_mm256_loadu_ps(B), dtx));
    _mm256_storeu_ps(s, v);
    return v;
}

FM_VMATH_AVX2 float scan_channel_avx2(float* s, const float* a, const float* B, const float* C, int64_t N, float dt,
                                      float dtx) {
    const __m256 vdt = _mm256_set1_ps(dt), vdtx = _mm256_set1_ps(dtx);
    __m256 la = _mm256_setzero_ps(), lb = la;
    int64_t n = 0;
    for (; n + 16 <= N; n += 16) {
        la = _mm256_fmadd_ps(update8(s + n, a + n, B + n, vdt, vdtx), _mm256_loadu_ps(C + n), la);
        lb = _mm256_fmadd_ps(update8(s + n + 8, a + n + 8, B + n + 8, vdt, vdtx), _mm256_loadu_ps(C + n + 8), lb);
    }
    if (n + 8 <= N) {
        la = _mm256_fmadd_ps(update8(s + n, a + n, B + n, vdt, vdtx), _mm256_loadu_ps(C + n), la);
        n += 8;
    }
    float tail = 0.0f;
    for (; n < N; ++n) {
        s[n] = std::fma(vmath::exp(dt * a[n]), s[n], B[n] * dtx);
        tail = std::fma(s[n], C[n], tail);
    }
    return simd::hsum8(_mm256_add_ps(la, lb)) + tail;
}

FM_VMATH_AVX2 void scan_avx2(const ScanParams& p, bool dt_final, int64_t i0, int64_t i1) {
    const int64_t N = p.N;
    int64_t i = i0;
    for (; i + 8 <= i1; i += 8) {
        const __m256 D = _mm256_loadu_ps(p.D + i);
        const __m256 bias = dt_final ? _mm256_setzero_ps() : _mm256_loadu_ps(p.dt_bias + i);
        for (int64_t t = 0; t < p.T; ++t) {
            const __m256 x = _mm256_loadu_ps(p.x + t * p.ldx + i);
            __m256 dt = _mm256_loadu_ps(p.dt_raw + t * p.ldd + i);
            if (!dt_final) dt = vmath::softplus(_mm256_add_ps(dt, bias));
            const __m256 gate = vmath::silu(_mm256_loadu_ps(p.z + t * p.ldz + i));
            alignas(32) float dts[8], dtxs[8], acc[8];
            _mm256_store_ps(dts, dt);
            _mm256_store_ps(dtxs, _mm256_mul_ps(dt, x));
            const float* B = p.B + t * p.ldbc;
            const float* C = p.C + t * p.ldbc;
            for (int l = 0; l < 8; ++l)
                acc[l] = scan_channel_avx2(p.state + (i + l) * N, p.A + (i + l) * N, B, C, N, dts[l], dtxs[l]);
            const __m256 y = _mm256_mul_ps(_mm256_fmadd_ps(D, x, _mm256_load_ps(acc)), gate);
            _mm256_storeu_ps(p.y + t * p.ldy + i, y);
        }
    }
    if (i < i1) scan_scalar(p, dt_final, i, i1);
}

// Conv for 8 channels [i, i+8) with K <= 8 taps.
FM_VMATH_AVX2 void conv8_avx2(const ConvParams& p, int64_t i) {
    const int64_t T = p.T, K = p.K, W = K - 1;
    __m256 w[8], st[8], last[8];
    for (int64_t k = 0; k < K; ++k) {
        alignas(32) float v[8];
        for (int l = 0; l < 8; ++l) v[l] = p.weight[(i + l) * K + k];
        w[k] = _mm256_load_ps(v);
    }
    for (int64_t j = 0; j < W; ++j) {
        alignas(32) float v[8];
        for (int l = 0; l < 8; ++l) v[l] = p.state[(i + l) * W + j];
        st[j] = _mm256_load_ps(v);
    }
    // Input src of [state, x]: src < 0 reads the state (no lambda: it would lose the target).
#define FM_CONV_INPUT(src) ((src) >= 0 ? _mm256_loadu_ps(p.x + (src)*p.ldx + i) : st[W + (src)])
    for (int64_t j = 0; j < W; ++j) last[j] = FM_CONV_INPUT(T - W + j);
    const __m256 bias = _mm256_loadu_ps(p.bias + i);
    for (int64_t t = T - 1; t >= 0; --t) {
        __m256 acc = bias;
        for (int64_t k = 0; k < K; ++k) acc = _mm256_fmadd_ps(w[k], FM_CONV_INPUT(t - W + k), acc);
        _mm256_storeu_ps(p.out + t * p.ldo + i, vmath::silu(acc));
    }
#undef FM_CONV_INPUT
    for (int64_t j = 0; j < W; ++j) {
        alignas(32) float v[8];
        _mm256_store_ps(v, last[j]);
        for (int l = 0; l < 8; ++l) p.state[(i + l) * W + j] = v[l];
    }
}

FM_VMATH_AVX2 void softplus_avx2(float* v, const float* bias, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(v + i);
        if (bias) x = _mm256_add_ps(x, _mm256_loadu_ps(bias + i));
        _mm256_storeu_ps(v + i, vmath::softplus(x));
    }
    for (; i < n; ++i) v[i] = vmath::softplus(bias ? v[i] + bias[i] : v[i]);
}

#endif  // FM_VMATH_X86

void conv_range(const ConvParams& p, int64_t i0, int64_t i1, Isa isa) {
#if FM_VMATH_X86
    if (detail::wide(isa) && p.K >= 1 && p.K <= 8) {
        int64_t i = i0;
        for (; i + 8 <= i1; i += 8) conv8_avx2(p, i);
        if (i < i1) conv_scalar(p, i, i1);
        return;
    }
#endif
    (void)isa;
    conv_scalar(p, i0, i1);
}

void scan_range(const ScanParams& p, bool dt_final, int64_t i0, int64_t i1, Isa isa) {
#if FM_VMATH_X86
    if (detail::wide(isa)) return scan_avx2(p, dt_final, i0, i1);
#endif
    (void)isa;
    scan_scalar(p, dt_final, i0, i1);
}

void run_channels(int64_t I, ThreadPool* pool, const std::function<void(int64_t, int64_t)>& work) {
    if (pool)
        pool->parallel_for(I, kChannelGrain, work);
    else
        work(0, I);
}

}  // namespace

namespace vmath {
void softplus_biased(float* v, const float* bias, int64_t n, Isa isa) {
#if FM_VMATH_X86
    if (detail::wide(isa)) return softplus_avx2(v, bias, n);
#endif
    (void)isa;
    for (int64_t i = 0; i < n; ++i) v[i] = softplus(bias ? v[i] + bias[i] : v[i]);
}
}  // namespace vmath

namespace detail {
// The twins by name, for the tests (kernels/cpu/ops.h declares the Auto versions).
void conv1d_chunk_isa(const ConvParams& p, Isa isa) {
    conv_range(p, 0, p.I, isa);
}
void selective_scan_isa(const ScanParams& p, ThreadPool* pool, Isa isa) {
    run_channels(p.I, pool, [&](int64_t i0, int64_t i1) { scan_range(p, p.dt_bias == nullptr, i0, i1, isa); });
}
}  // namespace detail

void conv1d_chunk(const ConvParams& p) {
    conv_range(p, 0, p.I, Isa::Auto);
}

void conv1d_step(float* x, int64_t I, int64_t K, const float* weight, const float* bias, float* state) {
    ConvParams p;
    p.T = 1;
    p.I = I;
    p.K = K;
    p.x = x;
    p.ldx = I;
    p.out = x;
    p.ldo = I;
    p.weight = weight;
    p.bias = bias;
    p.state = state;
    conv1d_chunk(p);
}

void selective_scan(const ScanParams& p, ThreadPool* pool) {
    detail::selective_scan_isa(p, pool, Isa::Auto);
}

// One token is a chunk of one: the same code, so decode and prefill agree bit for bit.
void ssm_step(const ScanStepParams& p, ThreadPool* pool) {
    ScanParams s;
    s.T = 1;
    s.I = p.I;
    s.N = p.N;
    s.x = p.x;
    s.ldx = p.I;
    s.dt_raw = p.dt;
    s.ldd = p.I;
    s.B = p.B;
    s.C = p.C;
    s.ldbc = p.N;
    s.z = p.z;
    s.ldz = p.I;
    s.A = p.A;
    s.D = p.D;
    s.dt_bias = p.dt_bias;
    s.state = p.state;
    s.y = p.y;
    s.ldy = p.I;
    selective_scan(s, pool);
}

void dt_ssm_step(const DtScanStepParams& p, ThreadPool* pool) {
    const int64_t R = p.R, N = p.step.N, I = p.step.I;
    thread_local std::vector<float> dbc, dt;
    dbc.assign(p.dbc, p.dbc + R + 2 * N);
    if (p.norms) bcdt_rms_norm(dbc.data(), R + 2 * N, 1, R, N, p.eps);
    dt.resize(static_cast<size_t>(I));
    gemv(p.dt_proj, dbc.data(), R + 2 * N, 1, dt.data(), I, Epilogue::BiasSoftplus, p.step.dt_bias, pool);
    ScanStepParams step = p.step;
    step.dt = dt.data();
    step.dt_bias = nullptr;
    step.B = dbc.data() + R;
    step.C = dbc.data() + R + N;
    ssm_step(step, pool);
}

}  // namespace fm::cpu
