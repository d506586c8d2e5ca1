// Matrix-vector products for decode (and prefill chunks of up to kGemvMaxTokens tokens).
//
// Design: memory-bound, so everything serves streaming the weights once at full bandwidth.
// A block is 8 warps (256 threads). Rows are taken in groups of RPW rows; each group is owned by
// `wpr` warps (1, 2, 4 or 8; chosen on the host so that the grid has enough warps to fill every
// multiprocessor even for short matrices like x_proj, 288 rows), each warp covering every
// wpr-th 16-byte column vector. A lane issues U * RPW independent 16-byte weight loads
// (ld.global.nc with L1::no_allocate: the weights stream past L1, which keeps the activations)
// before using any of them; the first batch is issued before the programmatic-dependent-launch
// wait, so the weights of the next matrix are already in flight while the previous kernel
// drains. Activations are read as float4 through L1 and shared by the RPW rows of a warp (RPW =
// 2, or 4 for 4-bit whose 16 bytes hold 32 elements) and by the NT tokens. Accumulation is fp32
// in registers: a butterfly warp reduction, then (wpr > 1) a cross-warp sum through shared
// memory; lane 0 applies the epilogue (store, residual add, bias + softplus, or the fused causal
// conv step of in_proj's x half). The RMS norm that precedes in_proj and lm_head can be fused
// too: after issuing its first weight loads, each block normalises the (single) input row into
// shared memory (16 KB for 7B; a block-wide sum of squares, recomputed per block: cheaper than a
// separate one-block launch on the critical path) and reads x from there. Rows whose length or alignment does not allow
// 16-byte vectors (odd test shapes, dt_proj of tiny models) take a scalar kernel with the same decomposition.

#include <algorithm>

#include "kernels/cuda/common.cuh"

namespace fm::cuda {
namespace {
using namespace detail;

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kConvEpilogue = 3;  // internal: gemv_conv

struct GemvParams {
    MatrixView W;
    const float* x;
    int64_t ldx;
    int32_t T;  // tokens in this launch (<= NT)
    float* y;
    int64_t ldy;
    int32_t ep;
    const float* bias;
    int32_t wpr;
    // gemv_conv: rows below conv_rows are the conv's channels.
    int64_t conv_rows;
    int32_t K;
    const float* conv_w;
    const float* conv_b;
    float* conv_state;
    // Fused RMS norm of the input (NT = 1 only): x <- rms(x, norm_eps) * norm_w, staged in shared memory.
    const float* norm_w;
    float norm_eps;
};

__device__ __forceinline__ void apply_epilogue(const GemvParams& p, int64_t row, int t, float v) {
    float* out = p.y + t * p.ldy + row;
    switch (p.ep) {
    case static_cast<int>(Epilogue::Accumulate): *out += v; break;
    case static_cast<int>(Epilogue::BiasSoftplus): *out = num::softplus(v + p.bias[row]); break;
    case kConvEpilogue:
        if (row < p.conv_rows) {
            *out = conv_step_channel(v, p.conv_w + row * p.K, p.conv_b[row], p.conv_state + row * (p.K - 1), p.K);
        } else {
            *out = v;
        }
        break;
    default: *out = v; break;
    }
}

// Sums acc over the warps of a row group and applies the epilogue. All threads must call it.
template <int RPW, int NT>
__device__ __forceinline__ void finish(const GemvParams& p, float (&acc)[RPW][NT], int64_t row0, int group, int slice) {
    __shared__ float partial[kWarps][RPW * NT];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
    for (int rr = 0; rr < RPW; ++rr)
#pragma unroll
        for (int t = 0; t < NT; ++t) acc[rr][t] = warp_sum(acc[rr][t]);
    if (p.wpr > 1) {
        if (lane == 0) {
#pragma unroll
            for (int rr = 0; rr < RPW; ++rr)
#pragma unroll
                for (int t = 0; t < NT; ++t) partial[warp][rr * NT + t] = acc[rr][t];
        }
        __syncthreads();
        if (slice != 0) return;
#pragma unroll
        for (int rr = 0; rr < RPW; ++rr)
#pragma unroll
            for (int t = 0; t < NT; ++t) {
                float s = 0.0f;
                for (int k = 0; k < p.wpr; ++k) s += partial[group * p.wpr + k][rr * NT + t];
                acc[rr][t] = s;
            }
    }
    if (lane != 0) return;
#pragma unroll
    for (int rr = 0; rr < RPW; ++rr)
#pragma unroll
        for (int t = 0; t < NT; ++t)
            if (row0 + rr < p.W.rows && t < p.T) apply_epilogue(p, row0 + rr, t, acc[rr][t]);
}

// Token t's activations; tokens past p.T (a partial group) re-read token 0 and are not stored.
__device__ __forceinline__ const float* xrow(const GemvParams& p, int t) {
    return p.x + (t < p.T ? t : 0) * p.ldx;
}

// 16 bytes of activations: from shared memory (the normalised input) or through the read-only
// cache.
template <bool SHARED>
__device__ __forceinline__ float4 ld4(const float* base, int64_t i) {
    if constexpr (SHARED)
        return reinterpret_cast<const float4*>(base)[i];
    else
        return __ldg(reinterpret_cast<const float4*>(base) + i);
}

// u = rms(x) * w for the whole row into shared memory s_u (cols floats, cols % 4 == 0, x 16-byte
// aligned), in the order of cpu::rms_norm: (x * scale) * w. All threads must call it.
__device__ __forceinline__ void stage_rms(const float* x, const float* __restrict__ w, int64_t cols, float eps,
                                          float* s_u) {
    __shared__ float scratch[32];
    float ss = 0.0f;
    for (int64_t c = threadIdx.x; c < cols / 4; c += blockDim.x) {
        const float4 v = __ldg(reinterpret_cast<const float4*>(x) + c);
        reinterpret_cast<float4*>(s_u)[c] = v;
        ss += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
    }
    ss = block_sum(ss, scratch);
    const float scale = num::rms_scale(ss, static_cast<int>(cols), eps);
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) s_u[c] = s_u[c] * scale * w[c];
    __syncthreads();
}

// Vectorized kernel. DT: the weight dtype (compile time); NT tokens; RPW rows per warp; U
// vectors per lane in flight per row.
template <DType DT, int NT, int RPW, int U, bool PRENORM>
__global__ void __launch_bounds__(kThreads) gemv_vec_kernel(GemvParams p) {
    static_assert(!PRENORM || NT == 1, "the fused norm is for one token");
    extern __shared__ __align__(16) float s_u[];  // [cols] when PRENORM
    __shared__ float cb[16];
    if constexpr (DT == DType::Q4) {
        if (threadIdx.x < 16) cb[threadIdx.x] = p.W.q4.codebook[threadIdx.x];
        __syncthreads();
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int group = warp / p.wpr, slice = warp % p.wpr;
    const int64_t row0 = (static_cast<int64_t>(blockIdx.x) * (kWarps / p.wpr) + group) * RPW;
    const int64_t rows = p.W.rows, cols = p.W.cols;
    constexpr int E = DT == DType::Q4 ? 32 : DT == DType::F32 ? 4 : 8;
    const int64_t nvec = cols / E;
    const int64_t stride = 32 * static_cast<int64_t>(p.wpr);

    const uint4* wrow[RPW];
#pragma unroll
    for (int rr = 0; rr < RPW; ++rr) {
        const int64_t r = min(row0 + rr, rows - 1);  // rows past the end re-read the last one; not stored
        if constexpr (DT == DType::Q4)
            wrow[rr] = reinterpret_cast<const uint4*>(p.W.q4.codes + r * cols / 2);
        else
            wrow[rr] = reinterpret_cast<const uint4*>(static_cast<const char*>(p.W.data) +
                                                      r * cols * static_cast<int64_t>(DT == DType::F32 ? 4 : 2));
    }

    float acc[RPW][NT];
#pragma unroll
    for (int rr = 0; rr < RPW; ++rr)
#pragma unroll
        for (int t = 0; t < NT; ++t) acc[rr][t] = 0.0f;

    uint4 w[U][RPW];
    const int64_t first = slice * 32 + lane;
    auto load_batch = [&](int64_t base) {
#pragma unroll
        for (int u = 0; u < U; ++u) {
            const int64_t v = base + u * stride;
#pragma unroll
            for (int rr = 0; rr < RPW; ++rr)
                w[u][rr] = v < nvec ? load_weights16(wrow[rr] + v) : make_uint4(0, 0, 0, 0);
        }
    };
    load_batch(first);
    grid_dependency_wait();  // the activations come from the previous kernel
    const float* xs[NT];
    if constexpr (PRENORM) {
        stage_rms(p.x, p.norm_w, cols, p.norm_eps, s_u);
        xs[0] = s_u;
    } else {
#pragma unroll
        for (int t = 0; t < NT; ++t) xs[t] = xrow(p, t);
    }

    for (int64_t base = first; base < nvec; base += stride * U) {
        if (base != first) load_batch(base);
#pragma unroll
        for (int u = 0; u < U; ++u) {
            const int64_t v = base + u * stride;
            if (v >= nvec) break;
            if constexpr (DT == DType::BF16 || DT == DType::F16) {
                float4 xa[NT], xb[NT];
#pragma unroll
                for (int t = 0; t < NT; ++t) {
                    xa[t] = ld4<PRENORM>(xs[t], 2 * v);
                    xb[t] = ld4<PRENORM>(xs[t], 2 * v + 1);
                }
#pragma unroll
                for (int rr = 0; rr < RPW; ++rr)
#pragma unroll
                    for (int t = 0; t < NT; ++t)
                        acc[rr][t] +=
                            DT == DType::BF16 ? dot8_bf16(w[u][rr], xa[t], xb[t]) : dot8_f16(w[u][rr], xa[t], xb[t]);
            } else if constexpr (DT == DType::F32) {
#pragma unroll
                for (int t = 0; t < NT; ++t) {
                    const float4 xa = ld4<PRENORM>(xs[t], v);
#pragma unroll
                    for (int rr = 0; rr < RPW; ++rr) acc[rr][t] += dot4_f32(w[u][rr], xa);
                }
            } else {  // Q4: 32 elements per vector, one scale per vector (block % 32 == 0)
                float scale[RPW];
#pragma unroll
                for (int rr = 0; rr < RPW; ++rr) {
                    const int64_t r = min(row0 + rr, rows - 1);
                    scale[rr] = __ldg(p.W.q4.scales + (r * cols + v * 32) / p.W.q4.block);
                }
#pragma unroll
                for (int t = 0; t < NT; ++t) {
                    float part[RPW];
#pragma unroll
                    for (int rr = 0; rr < RPW; ++rr) part[rr] = 0.0f;
#pragma unroll
                    for (int q = 0; q < 4; ++q) {
                        const float4 xa = ld4<PRENORM>(xs[t], 8 * v + 2 * q),
                                     xb = ld4<PRENORM>(xs[t], 8 * v + 2 * q + 1);
#pragma unroll
                        for (int rr = 0; rr < RPW; ++rr) {
                            const uint32_t word = q == 0   ? w[u][rr].x
                                                  : q == 1 ? w[u][rr].y
                                                  : q == 2 ? w[u][rr].z
                                                           : w[u][rr].w;
                            part[rr] += dot8_q4(word, cb, xa, xb);
                        }
                    }
#pragma unroll
                    for (int rr = 0; rr < RPW; ++rr) acc[rr][t] += scale[rr] * part[rr];
                }
            }
        }
    }
    grid_dependency_trigger();
    finish<RPW, NT>(p, acc, row0, group, slice);
}

// Any dtype, any shape and alignment: one element at a time.
template <int NT>
__global__ void __launch_bounds__(kThreads) gemv_scalar_kernel(GemvParams p) {
    __shared__ float cb[16];
    if (p.W.dtype == DType::Q4 && threadIdx.x < 16) cb[threadIdx.x] = p.W.q4.codebook[threadIdx.x];
    __syncthreads();
    grid_dependency_wait();
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int group = warp / p.wpr, slice = warp % p.wpr;
    const int64_t row0 = static_cast<int64_t>(blockIdx.x) * (kWarps / p.wpr) + group;
    const int64_t r = min(row0, p.W.rows - 1), cols = p.W.cols;
    float scale = 1.0f;
    if (p.norm_w) {  // fused RMS norm of the (single) input row, recomputed by each block
        __shared__ float scratch[32];
        float ss = 0.0f;
        for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) ss += p.x[c] * p.x[c];
        scale = num::rms_scale(block_sum(ss, scratch), static_cast<int>(cols), p.norm_eps);
    }
    float acc[1][NT];
#pragma unroll
    for (int t = 0; t < NT; ++t) acc[0][t] = 0.0f;
    for (int64_t c = slice * 32 + lane; c < cols; c += 32 * static_cast<int64_t>(p.wpr)) {
        const float wv = matrix_at(p.W, r * cols + c, cb);
        if (p.norm_w) {
            acc[0][0] += wv * (p.x[c] * scale * p.norm_w[c]);
            continue;
        }
#pragma unroll
        for (int t = 0; t < NT; ++t)
            if (t < p.T) acc[0][t] += wv * p.x[t * p.ldx + c];
    }
    finish<1, NT>(p, acc, row0, group, slice);
}

// Warps per row group: enough warps in the grid to fill the GPU several times over, as long as
// each warp still has at least two full passes over its share of the row.
int choose_wpr(int64_t groups, int64_t vecs_per_row, int sms) {
    const int64_t target = static_cast<int64_t>(sms) * 48;
    int wpr = 1;
    while (wpr < kWarps && groups * wpr < target && vecs_per_row >= 32LL * wpr * 4) wpr *= 2;
    return wpr;
}

constexpr int64_t kMaxStagedCols = 11 * 1024;  // 44 KB: with the static shared memory, under the 48 KB default

template <DType DT, int NT, int RPW, int U, bool PRENORM>
Status launch_vec(GemvParams p, const Exec& ex, int sms) {
    const int64_t groups = (p.W.rows + RPW - 1) / RPW;
    p.wpr = choose_wpr(groups, p.W.cols / vec_elems(DT), sms);
    const int64_t per_block = kWarps / p.wpr;
    const int64_t blocks = (groups + per_block - 1) / per_block;
    const size_t smem = PRENORM ? static_cast<size_t>(p.W.cols) * sizeof(float) : 0;
    return launch("gemv kernel", gemv_vec_kernel<DT, NT, RPW, U, PRENORM>, dim3(static_cast<unsigned>(blocks)),
                  dim3(kThreads), smem, ex, p);
}

template <DType DT, int NT>
Status dispatch_rows(const GemvParams& p, const Exec& ex, int sms) {
    constexpr int kBig = DT == DType::Q4 ? 4 : 2;
    constexpr int U = DT == DType::Q4 ? 2 : 4;
    if constexpr (NT == 1) {
        const bool big = p.W.rows >= static_cast<int64_t>(sms) * 64;
        if (p.norm_w)
            return big ? launch_vec<DT, 1, kBig, U, true>(p, ex, sms) : launch_vec<DT, 1, 1, U, true>(p, ex, sms);
        if (big) return launch_vec<DT, 1, kBig, U, false>(p, ex, sms);
    }
    constexpr int U1 = DT == DType::Q4 && NT == 1 ? 4 : U;  // one row per warp: more vectors in flight
    return launch_vec<DT, NT, 1, U1, false>(p, ex, sms);
}

template <int NT>
Status dispatch(const GemvParams& p, bool vec, const Exec& ex, int sms) {
    if (!vec) {
        GemvParams q = p;
        q.wpr = choose_wpr(q.W.rows, q.W.cols / 8, sms);
        const int64_t per_block = kWarps / q.wpr;
        const int64_t blocks = (q.W.rows + per_block - 1) / per_block;
        return launch("gemv kernel (scalar)", gemv_scalar_kernel<NT>, dim3(static_cast<unsigned>(blocks)),
                      dim3(kThreads), 0, ex, q);
    }
    switch (p.W.dtype) {
    case DType::BF16: return dispatch_rows<DType::BF16, NT>(p, ex, sms);
    case DType::F16: return dispatch_rows<DType::F16, NT>(p, ex, sms);
    case DType::F32: return dispatch_rows<DType::F32, NT>(p, ex, sms);
    case DType::Q4: return dispatch_rows<DType::Q4, NT>(p, ex, sms);
    default: return Error{"gemv: unsupported dtype"};
    }
}

Status check_matrix(const MatrixView& W, const char* what) {
    if (W.rows <= 0 || W.cols <= 0) return Error{std::string(what) + ": empty matrix"};
    if (W.dtype == DType::U8) return Error{std::string(what) + ": unsupported dtype U8"};
    if (W.dtype == DType::Q4 && (!W.q4.codes || !W.q4.scales || !W.q4.codebook || W.q4.block <= 0))
        return Error{std::string(what) + ": incomplete 4-bit matrix"};
    if (W.dtype != DType::Q4 && !W.data) return Error{std::string(what) + ": no data"};
    if (W.rows > (int64_t{1} << 31) - 1) return Error{std::string(what) + ": too many rows"};
    return {};
}

Status run(GemvParams p, int64_t T, const Exec& ex) {
    const int sms = sm_count(ex);
    const bool x_vec = aligned16(p.x) && p.ldx % 4 == 0;
    const bool staged_ok = !p.norm_w || (T == 1 && p.W.cols <= kMaxStagedCols);
    const bool vec = x_vec && staged_ok && rows_vectorizable(p.W);
    if (p.norm_w && T != 1) return Error{"gemv: the fused norm takes one token"};
    const float* x0 = p.x;
    float* y0 = p.y;
    for (int64_t t0 = 0; t0 < T;) {
        const int64_t n = std::min<int64_t>(T - t0, 4);
        p.x = x0 + t0 * p.ldx;
        p.y = y0 + t0 * p.ldy;
        p.T = static_cast<int32_t>(n);
        Status s = n == 1   ? dispatch<1>(p, vec, ex, sms)
                   : n == 2 ? dispatch<2>(p, vec, ex, sms)
                            : dispatch<4>(p, vec, ex, sms);
        if (!s) return s;
        t0 += n;
    }
    return {};
}

}  // namespace

Status gemv(const MatrixView& W, const float* X, int64_t ldx, int64_t T, float* Y, int64_t ldy, Epilogue ep,
            const float* bias, const Exec& ex) {
    if (T <= 0) return {};
    if (auto s = check_matrix(W, "gemv"); !s) return s;
    if (ep == Epilogue::BiasSoftplus && !bias) return Error{"gemv: BiasSoftplus needs a bias"};
    GemvParams p{};
    p.W = W;
    p.x = X;
    p.ldx = ldx;
    p.y = Y;
    p.ldy = ldy;
    p.ep = static_cast<int32_t>(ep);
    p.bias = bias;
    return run(p, T, ex);
}

Status gemv_conv(const MatrixView& W, const float* h, const float* norm_weight, float norm_eps, float* xz, int64_t I,
                 int64_t K, const float* conv_weight, const float* conv_bias, float* conv_state, const Exec& ex) {
    if (auto s = check_matrix(W, "gemv_conv"); !s) return s;
    if (W.rows != 2 * I) return Error{"gemv_conv: in_proj must have 2*I rows"};
    if (K < 1 || K > 64) return Error{"gemv_conv: unsupported conv width " + std::to_string(K)};
    GemvParams p{};
    p.W = W;
    p.x = h;
    p.ldx = W.cols;
    p.y = xz;
    p.ldy = W.rows;
    p.ep = kConvEpilogue;
    p.conv_rows = I;
    p.K = static_cast<int32_t>(K);
    p.conv_w = conv_weight;
    p.conv_b = conv_bias;
    p.conv_state = conv_state;
    p.norm_w = norm_weight;
    p.norm_eps = norm_eps;
    return run(p, 1, ex);
}

Status rms_gemv(const MatrixView& W, const float* h, const float* norm_weight, float norm_eps, float* y, Epilogue ep,
                const float* bias, const Exec& ex) {
    if (auto s = check_matrix(W, "rms_gemv"); !s) return s;
    if (!norm_weight) return Error{"rms_gemv: no norm weight"};
    if (ep == Epilogue::BiasSoftplus && !bias) return Error{"rms_gemv: BiasSoftplus needs a bias"};
    GemvParams p{};
    p.W = W;
    p.x = h;
    p.ldx = W.cols;
    p.y = y;
    p.ldy = W.rows;
    p.ep = static_cast<int32_t>(ep);
    p.bias = bias;
    p.norm_w = norm_weight;
    p.norm_eps = norm_eps;
    return run(p, 1, ex);
}

}  // namespace fm::cuda
