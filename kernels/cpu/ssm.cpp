// The causal conv and the selective scan. Both are sequential in time and independent across
// channels, so threads split the channels (tasks of 64) and each walks its channels' tokens in
// order with the state row in cache. Each step is the per-element math of
// kernels/common/numerics.h, shared with the CUDA twins.

#include <algorithm>
#include <vector>

#include "kernels/common/numerics.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/thread_pool.h"

namespace fm::cpu {

void conv1d_chunk(const ConvParams& p) {
    const int64_t T = p.T, K = p.K, W = K - 1;
    std::vector<float> last(static_cast<size_t>(W));
    for (int64_t i = 0; i < p.I; ++i) {
        const float* w = p.weight + i * K;
        float* st = p.state + i * W;
        auto input = [&](int64_t src) { return src >= 0 ? p.x[src * p.ldx + i] : st[W + src]; };
        // The new state is the last K-1 inputs of [state, x], taken before x may be overwritten.
        for (int64_t j = 0; j < W; ++j) last[static_cast<size_t>(j)] = input(T - W + j);
        // Backwards, so that in place (out == x) each output overwrites an input no later output needs.
        for (int64_t t = T - 1; t >= 0; --t) {
            float acc = p.bias[i];
            for (int64_t k = 0; k < K; ++k) acc += w[k] * input(t - (K - 1) + k);
            p.out[t * p.ldo + i] = num::silu(acc);
        }
        std::copy(last.begin(), last.end(), st);
    }
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
    const int64_t N = p.N;
    auto work = [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
            float* s = p.state + i * N;
            const float* a = p.A + i * N;
            for (int64_t t = 0; t < p.T; ++t) {
                const float xv = p.x[t * p.ldx + i];
                const float dt = num::softplus(p.dt_raw[t * p.ldd + i] + p.dt_bias[i]);
                const float* b = p.B + t * p.ldbc;
                const float* c = p.C + t * p.ldbc;
                float acc = 0.0f;
                for (int64_t n = 0; n < N; ++n) {
                    s[n] = num::ssm_update(s[n], dt, a[n], b[n], xv);
                    acc += s[n] * c[n];
                }
                const float out = acc + p.D[i] * xv;
                p.y[t * p.ldy + i] = out * num::silu(p.z[t * p.ldz + i]);
            }
        }
    };
    if (pool)
        pool->parallel_for(p.I, 64, work);
    else
        work(0, p.I);
}

void ssm_step(const ScanStepParams& p, ThreadPool* pool) {
    auto work = [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
            float* s = p.state + i * p.N;
            const float* a = p.A + i * p.N;
            const float dt = p.dt_bias ? num::softplus(p.dt[i] + p.dt_bias[i]) : p.dt[i];
            float acc = 0.0f;
            for (int64_t n = 0; n < p.N; ++n) {
                s[n] = num::ssm_update(s[n], dt, a[n], p.B[n], p.x[i]);
                acc += s[n] * p.C[n];
            }
            p.y[i] = (acc + p.D[i] * p.x[i]) * num::silu(p.z[i]);
        }
    };
    if (pool)
        pool->parallel_for(p.I, 64, work);
    else
        work(0, p.I);
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
