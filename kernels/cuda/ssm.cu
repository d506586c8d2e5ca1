// The recurrent part of the Mamba block: causal depthwise conv (one token and chunked) and the
// selective scan (one token, fused decode, and chunked prefill). State is fp32 in device memory,
// laid out like fm::RecurrentState: conv [I, K-1] oldest first, ssm [I, N].
//
// Design:
// - conv1d_step: one thread per channel; the K-1 carried inputs are read, shifted and written
//   by that thread only.
// - conv1d_chunk: one thread per output (channel, token), reading its K inputs from x or the
//   carried state (L1/L2 hits); a second launch, one thread per channel, then writes the new
//   state (the last K-1 inputs), after every output has read the old one.
// - ssm_step / dt_ssm_step: a channel's N states are spread over G = next_pow2(N) lanes (16 for
//   Falcon Mamba), one state per lane: coalesced [I, N] state traffic, y reduced with G-lane
//   shuffles. dt_ssm_step fuses the weightless norms of d, B, C (each block redoes them on the
//   R+2N values in shared memory: cheaper than a launch), dt_proj for the block's 256/G
//   channels (a warp per row, d read from shared memory), bias + softplus, the state update and
//   the gate: one launch between x_proj and out_proj in decode.
// - selective_scan (prefill chunk): time is sequential, so the parallelism is channels x state
//   entries: a channel's states go to G = next_pow2(ceil(N/2)) lanes (8 for N = 16: 64 K
//   threads for 7B), two per lane kept in registers with their A values for the whole chunk.
//   A block of 16 channels stages tiles of 32 time steps in shared memory with coalesced loads
//   of x, dt, z, B, C, computing softplus(dt + bias) and silu(z) once per element while
//   loading; the sequential steps then read only shared memory, and y goes back through shared
//   memory for coalesced stores.

#include <algorithm>

#include "kernels/cuda/common.cuh"

namespace fm::cuda {
namespace {
using namespace detail;

int next_pow2(int64_t n) {
    int p = 1;
    while (p < n) p <<= 1;
    return p;
}

// ---- conv ----

__global__ void conv1d_step_kernel(float* x, int64_t I, int K, const float* __restrict__ weight,
                                   const float* __restrict__ bias, float* state) {
    grid_dependency_wait();
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= I) return;
    x[i] = conv_step_channel(x[i], weight + i * K, bias[i], state + i * (K - 1), K);
}

__global__ void conv1d_chunk_kernel(const float* __restrict__ x, int64_t ldx, float* __restrict__ out, int64_t ldo,
                                    int64_t T, int64_t I, int K, const float* __restrict__ weight,
                                    const float* __restrict__ bias, const float* __restrict__ state) {
    grid_dependency_wait();
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= I) return;
    const int W = K - 1;
    const float* w = weight + i * K;
    const float* st = state + i * W;
    for (int64_t t = blockIdx.y; t < T; t += gridDim.y) {
        float acc = bias[i];
        for (int k = 0; k < K; ++k) {
            const int64_t src = t - W + k;  // negative: the carried state
            const float v = src >= 0 ? x[src * ldx + i] : st[W + src];
            acc += w[k] * v;
        }
        out[t * ldo + i] = num::silu(acc);
    }
}

__global__ void conv1d_state_kernel(const float* __restrict__ x, int64_t ldx, int64_t T, int64_t I, int K,
                                    float* state) {
    grid_dependency_wait();
    const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= I) return;
    const int64_t W = K - 1;
    float* st = state + i * W;
    // In increasing j: a state entry read (index j + T) is never one already rewritten.
    for (int64_t j = 0; j < W; ++j) {
        const int64_t src = T - W + j;
        st[j] = src >= 0 ? x[src * ldx + i] : st[W + src];
    }
}

// ---- one-token scan ----

constexpr int kStepThreads = 256;

__global__ void __launch_bounds__(kStepThreads)
    ssm_step_kernel(const float* __restrict__ x, const float* __restrict__ dt_in, const float* __restrict__ dt_bias,
                    const float* __restrict__ B, const float* __restrict__ C, const float* __restrict__ z,
                    const float* __restrict__ A, const float* __restrict__ D, float* state, float* __restrict__ y,
                    int64_t I, int N, int G) {
    grid_dependency_wait();
    const int channels = kStepThreads / G;
    const int c = threadIdx.x / G, g = threadIdx.x % G;
    const int64_t i = static_cast<int64_t>(blockIdx.x) * channels + c;
    const bool valid = i < I;
    float xv = 0.0f, dt = 0.0f, acc = 0.0f;
    if (valid) {
        xv = x[i];
        dt = dt_bias ? num::softplus(dt_in[i] + dt_bias[i]) : dt_in[i];
        for (int n = g; n < N; n += G) {
            const float s = num::ssm_update(state[i * N + n], dt, A[i * N + n], B[n], xv);
            state[i * N + n] = s;
            acc += s * C[n];
        }
    }
    acc = group_sum(acc, G);
    if (valid && g == 0) y[i] = (acc + D[i] * xv) * num::silu(z[i]);
}

struct DtSsmKernelParams {
    MatrixView W;  // dt_proj [I, R]
    const float* dbc;
    int32_t R, N, G;
    bool norms;
    float eps;
    const float* dt_bias;
    const float* x;
    const float* z;
    const float* A;
    const float* D;
    float* state;
    float* y;
    int64_t I;
    bool vec;  // dt_proj rows readable as 16-byte vectors
};

__global__ void __launch_bounds__(kStepThreads) dt_ssm_step_kernel(DtSsmKernelParams p) {
    extern __shared__ __align__(16) float smem[];
    __shared__ float cb[16];
    __shared__ float scales[3];
    const int R = p.R, N = p.N, G = p.G;
    const int channels = kStepThreads / G;
    float* s_d = smem;  // [R] (R rounded up to 4 floats so B stays aligned)
    const int r4 = (R + 3) & ~3;
    float* s_B = smem + r4;  // [N]
    float* s_C = s_B + N;    // [N]
    float* s_dt = s_C + N;   // [channels]
    if (p.W.dtype == DType::Q4 && threadIdx.x < 16) cb[threadIdx.x] = p.W.q4.codebook[threadIdx.x];
    grid_dependency_wait();
    for (int j = threadIdx.x; j < R + 2 * N; j += blockDim.x) {
        const float v = p.dbc[j];
        if (j < R)
            s_d[j] = v;
        else
            s_B[j - R] = v;  // s_C follows s_B
    }
    __syncthreads();
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    if (p.norms) {
        if (warp < 3) {
            const float* seg = warp == 0 ? s_d : warp == 1 ? s_B : s_C;
            const int n = warp == 0 ? R : N;
            float ss = 0.0f;
            for (int j = lane; j < n; j += 32) ss += seg[j] * seg[j];
            ss = warp_sum(ss);
            if (lane == 0) scales[warp] = num::rms_scale(ss, n, p.eps);
        }
        __syncthreads();
        for (int j = threadIdx.x; j < R + 2 * N; j += blockDim.x) {
            if (j < R)
                s_d[j] = s_d[j] * scales[0];
            else if (j < R + N)
                s_B[j - R] = s_B[j - R] * scales[1];
            else
                s_C[j - R - N] = s_C[j - R - N] * scales[2];
        }
        __syncthreads();
    }
    // dt = softplus(dt_proj(d) + bias) for this block's channels, a warp per row.
    const int64_t base = static_cast<int64_t>(blockIdx.x) * channels;
    for (int c = warp; c < channels; c += kStepThreads / 32) {
        const int64_t i = base + c;
        if (i >= p.I) break;
        const float dot = warp_row_dot(p.W, i, s_d, cb, p.vec);
        if (lane == 0) s_dt[c] = num::softplus(dot + p.dt_bias[i]);
    }
    __syncthreads();
    grid_dependency_trigger();
    const int c = threadIdx.x / G, g = threadIdx.x % G;
    const int64_t i = base + c;
    const bool valid = i < p.I;
    float xv = 0.0f, acc = 0.0f;
    if (valid) {
        xv = p.x[i];
        const float dt = s_dt[c];
        for (int n = g; n < N; n += G) {
            const float s = num::ssm_update(p.state[i * N + n], dt, p.A[i * N + n], s_B[n], xv);
            p.state[i * N + n] = s;
            acc += s * s_C[n];
        }
    }
    acc = group_sum(acc, G);
    if (valid && g == 0) p.y[i] = (acc + p.D[i] * xv) * num::silu(p.z[i]);
}

// ---- chunked scan ----

constexpr int kScanSteps = 32;  // time steps per shared-memory tile
constexpr int kScanSpt = 2;     // states per thread
constexpr int kScanMaxN = 32 * kScanSpt;

struct ScanKernelParams {
    const float* x;
    int64_t ldx;
    const float* dt_raw;
    int64_t ldd;
    const float* B;
    const float* C;
    int64_t ldbc;
    const float* z;
    int64_t ldz;
    const float* A;
    const float* D;
    const float* dt_bias;
    float* state;
    float* y;
    int64_t ldy;
    int64_t T, I;
    int32_t N, G, CH;
};

__global__ void selective_scan_kernel(ScanKernelParams p) {
    extern __shared__ __align__(16) float smem[];
    const int CH = p.CH, G = p.G, N = p.N;
    float* s_x = smem;                     // [steps][CH]
    float* s_dt = s_x + kScanSteps * CH;   // [steps][CH]
    float* s_zy = s_dt + kScanSteps * CH;  // [steps][CH]: silu(z), then y
    float* s_B = s_zy + kScanSteps * CH;   // [steps][N]
    float* s_C = s_B + kScanSteps * N;     // [steps][N]
    const int c = threadIdx.x / G, g = threadIdx.x % G;
    const int64_t i0 = static_cast<int64_t>(blockIdx.x) * CH;
    const int64_t i = i0 + c;
    const bool valid = i < p.I;

    float a[kScanSpt], s[kScanSpt];
    grid_dependency_wait();
#pragma unroll
    for (int j = 0; j < kScanSpt; ++j) {
        const int n = g + G * j;
        const bool ok = valid && n < N;
        a[j] = ok ? p.A[i * N + n] : 0.0f;
        s[j] = ok ? p.state[i * N + n] : 0.0f;
    }
    const float d_skip = valid ? p.D[i] : 0.0f;
    const int threads = blockDim.x;

    for (int64_t t0 = 0; t0 < p.T; t0 += kScanSteps) {
        const int steps = p.T - t0 < kScanSteps ? static_cast<int>(p.T - t0) : kScanSteps;
        for (int k = threadIdx.x; k < kScanSteps * CH; k += threads) {
            const int tt = k / CH, cc = k % CH;
            const int64_t t = t0 + tt, ch = i0 + cc;
            float xv = 0.0f, dt = 0.0f, zs = 0.0f;
            if (tt < steps && ch < p.I) {
                xv = p.x[t * p.ldx + ch];
                dt = num::softplus(p.dt_raw[t * p.ldd + ch] + p.dt_bias[ch]);
                zs = num::silu(p.z[t * p.ldz + ch]);
            }
            s_x[k] = xv;
            s_dt[k] = dt;
            s_zy[k] = zs;
        }
        for (int k = threadIdx.x; k < kScanSteps * N; k += threads) {
            const int tt = k / N, n = k % N;
            const int64_t t = t0 + tt;
            s_B[k] = tt < steps ? p.B[t * p.ldbc + n] : 0.0f;
            s_C[k] = tt < steps ? p.C[t * p.ldbc + n] : 0.0f;
        }
        __syncthreads();
        for (int tt = 0; tt < steps; ++tt) {
            const float xv = s_x[tt * CH + c], dt = s_dt[tt * CH + c];
            float acc = 0.0f;
#pragma unroll
            for (int j = 0; j < kScanSpt; ++j) {
                const int n = g + G * j;
                if (n < N) {
                    s[j] = num::ssm_update(s[j], dt, a[j], s_B[tt * N + n], xv);
                    acc += s[j] * s_C[tt * N + n];
                }
            }
            acc = group_sum(acc, G);
            if (g == 0) s_zy[tt * CH + c] = (acc + d_skip * xv) * s_zy[tt * CH + c];
        }
        __syncthreads();
        for (int k = threadIdx.x; k < steps * CH; k += threads) {
            const int tt = k / CH, cc = k % CH;
            const int64_t ch = i0 + cc;
            if (ch < p.I) p.y[(t0 + tt) * p.ldy + ch] = s_zy[k];
        }
        __syncthreads();
    }
#pragma unroll
    for (int j = 0; j < kScanSpt; ++j) {
        const int n = g + G * j;
        if (valid && n < N) p.state[i * N + n] = s[j];
    }
}

Status check_state_dims(int64_t I, int64_t N, const char* what) {
    if (I <= 0 || N <= 0) return Error{std::string(what) + ": empty dimensions"};
    if (N > 1024) return Error{std::string(what) + ": state size " + std::to_string(N) + " is not supported"};
    return {};
}

}  // namespace

Status conv1d_step(float* x, int64_t I, int64_t K, const float* weight, const float* bias, float* state,
                   const Exec& ex) {
    if (I <= 0) return {};
    if (K < 1 || K > 64) return Error{"conv1d_step: unsupported conv width " + std::to_string(K)};
    const int threads = 256;
    return launch("conv1d_step kernel", conv1d_step_kernel, dim3(static_cast<unsigned>((I + threads - 1) / threads)),
                  dim3(threads), 0, ex, x, I, static_cast<int>(K), weight, bias, state);
}

Status conv1d_chunk(const ConvParams& c, const Exec& ex) {
    if (c.T <= 0 || c.I <= 0) return {};
    if (c.K < 1 || c.K > 64) return Error{"conv1d_chunk: unsupported conv width " + std::to_string(c.K)};
    if (c.out == c.x) return Error{"conv1d_chunk: out must not overlap x on the GPU"};
    const int threads = 256;
    const unsigned gx = static_cast<unsigned>((c.I + threads - 1) / threads);
    const unsigned gy = static_cast<unsigned>(std::min<int64_t>(c.T, 65535));
    if (auto s =
            launch("conv1d_chunk kernel", conv1d_chunk_kernel, dim3(gx, gy), dim3(threads), 0, ex, c.x, c.ldx, c.out,
                   c.ldo, c.T, c.I, static_cast<int>(c.K), c.weight, c.bias, static_cast<const float*>(c.state));
        !s)
        return s;
    if (c.K == 1) return {};
    return launch("conv1d_state kernel", conv1d_state_kernel, dim3(gx), dim3(threads), 0, ex, c.x, c.ldx, c.T, c.I,
                  static_cast<int>(c.K), c.state);
}

Status ssm_step(const ScanStepParams& p, const Exec& ex) {
    if (auto s = check_state_dims(p.I, p.N, "ssm_step"); !s) return s;
    const int G = std::min(32, next_pow2(p.N));
    const int64_t channels = kStepThreads / G;
    return launch("ssm_step kernel", ssm_step_kernel, dim3(static_cast<unsigned>((p.I + channels - 1) / channels)),
                  dim3(kStepThreads), 0, ex, p.x, p.dt, p.dt_bias, p.B, p.C, p.z, p.A, p.D, p.state, p.y, p.I,
                  static_cast<int>(p.N), G);
}

Status dt_ssm_step(const DtScanStepParams& q, const Exec& ex) {
    const MatrixView& dt_proj = q.dt_proj;
    const int64_t I = q.step.I, N = q.step.N, R = q.R;
    if (auto s = check_state_dims(I, N, "dt_ssm_step"); !s) return s;
    if (dt_proj.rows != I || dt_proj.cols != R) return Error{"dt_ssm_step: dt_proj must be [I, R]"};
    if (dt_proj.dtype == DType::U8) return Error{"dt_ssm_step: unsupported dtype U8"};
    if (R <= 0 || R > 8192) return Error{"dt_ssm_step: unsupported dt rank " + std::to_string(R)};
    DtSsmKernelParams p{};
    p.W = dt_proj;
    p.dbc = q.dbc;
    p.R = static_cast<int32_t>(R);
    p.N = static_cast<int32_t>(N);
    p.G = std::min(32, next_pow2(N));
    p.norms = q.norms;
    p.eps = q.eps;
    p.dt_bias = q.step.dt_bias;
    p.x = q.step.x;
    p.z = q.step.z;
    p.A = q.step.A;
    p.D = q.step.D;
    p.state = q.step.state;
    p.y = q.step.y;
    p.I = I;
    p.vec = rows_vectorizable(dt_proj);  // s_d is 16-byte aligned shared memory
    const int64_t channels = kStepThreads / p.G;
    const size_t smem = static_cast<size_t>(((R + 3) & ~int64_t{3}) + 2 * N + channels) * sizeof(float);
    return launch("dt_ssm_step kernel", dt_ssm_step_kernel, dim3(static_cast<unsigned>((I + channels - 1) / channels)),
                  dim3(kStepThreads), smem, ex, p);
}

Status selective_scan(const ScanParams& q, const Exec& ex) {
    const int64_t N = q.N;
    if (q.T <= 0) return {};
    if (auto s = check_state_dims(q.I, N, "selective_scan"); !s) return s;
    if (N > kScanMaxN) return Error{"selective_scan: state size " + std::to_string(N) + " is not supported (max 64)"};
    ScanKernelParams p{q.x, q.ldx,     q.dt_raw, q.ldd, q.B,   q.C, q.ldbc, q.z, q.ldz, q.A,
                       q.D, q.dt_bias, q.state,  q.y,   q.ldy, q.T, q.I,    0,   0,     0};
    p.N = static_cast<int32_t>(N);
    p.G = next_pow2((N + kScanSpt - 1) / kScanSpt);
    p.CH = std::max(1, std::min(32, 128 / p.G));
    const size_t smem = static_cast<size_t>(kScanSteps) * (3 * p.CH + 2 * N) * sizeof(float);
    const unsigned blocks = static_cast<unsigned>((q.I + p.CH - 1) / p.CH);
    return launch("selective_scan kernel", selective_scan_kernel, dim3(blocks), dim3(p.CH * p.G), smem, ex, p);
}

}  // namespace fm::cuda
