#pragma once
// Device-side helpers shared by the CUDA kernels (kernels/cuda/*.cu): weight-element decoding,
// warp reductions, programmatic dependent launch, and the host launch wrapper that turns CUDA
// errors into fm::Status. Per-element math that the CPU twins also use lives in
// kernels/common/numerics.h.

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "inference/core/result.h"
#include "kernels/common/matrix_view.h"
#include "kernels/common/numerics.h"
#include "kernels/cuda/ops.h"

namespace fm::cuda::detail {

constexpr unsigned kFullMask = 0xffffffffu;

// Waits until the grid this one depends on (programmatic dependent launch, sm_90+) has finished
// and its writes are visible. Every kernel calls it before reading activations or state; weights
// may be read before it. Without PDL (or before sm_90) it is a no-op.
__device__ __forceinline__ void grid_dependency_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

// Lets the next kernel in the stream start launching its blocks (they still wait in
// grid_dependency_wait until this grid has completed).
__device__ __forceinline__ void grid_dependency_trigger() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" :::);
#endif
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFullMask, v, o);
    return v;
}

// Sum over aligned groups of `width` lanes (width a power of two <= 32); every lane gets its
// group's sum.
__device__ __forceinline__ float group_sum(float v, int width) {
    for (int o = width >> 1; o > 0; o >>= 1) v += __shfl_xor_sync(kFullMask, v, o);
    return v;
}

// Block-wide sum; `scratch` holds >= 32 floats. Every thread gets the result. Must be reached by
// all threads of the block.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int warps = (blockDim.x + 31) >> 5;
    v = warp_sum(v);
    __syncthreads();  // scratch may still be read by a previous call
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float total = 0.0f;
    for (int w = 0; w < warps; ++w) total += scratch[w];
    return total;
}

// 16-byte streaming load of weights: read-only path, not kept in L1 (the activations are).
__device__ __forceinline__ uint4 load_weights16(const void* p) {
    uint4 v;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p));
    return v;
}

__device__ __forceinline__ float bf16_lo(uint32_t w) {
    return __uint_as_float(w << 16);
}
__device__ __forceinline__ float bf16_hi(uint32_t w) {
    return __uint_as_float(w & 0xffff0000u);
}
__device__ __forceinline__ float f16_lo(uint32_t w) {
    return __half2float(__ushort_as_half(static_cast<unsigned short>(w & 0xffffu)));
}
__device__ __forceinline__ float f16_hi(uint32_t w) {
    return __half2float(__ushort_as_half(static_cast<unsigned short>(w >> 16)));
}

// Element c of row r of a 16/32-bit matrix, as fp32.
__device__ __forceinline__ float weight_at(DType dt, const void* data, int64_t index) {
    switch (dt) {
    case DType::BF16: return num::bf16_to_float(static_cast<const uint16_t*>(data)[index]);
    case DType::F16: return __half2float(__ushort_as_half(static_cast<const unsigned short*>(data)[index]));
    case DType::F32: return static_cast<const float*>(data)[index];
    default: return 0.0f;
    }
}

// Element `index` (flattened row-major) of a Q4 matrix: codebook[code] * scale (the reference
// dequantization, docs/model.md, 4-bit weights).
__device__ __forceinline__ float q4_at(const uint8_t* codes, const float* scales, const float* codebook, int32_t block,
                                       int64_t index) {
    const uint8_t byte = codes[index >> 1];
    const int code = (index & 1) ? (byte & 0x0f) : (byte >> 4);
    return codebook[code] * scales[index / block];
}

__device__ __forceinline__ float matrix_at(const MatrixView& W, int64_t index, const float* codebook) {
    if (W.dtype == DType::Q4) return q4_at(W.q4.codes, W.q4.scales, codebook, W.q4.block, index);
    return weight_at(W.dtype, W.data, index);
}

inline bool aligned16(const void* p) {
    return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
}

// One token of the causal depthwise conv for channel i (docs/model.md, The forward pass), in the order the CPU
// twin (cpu::conv1d_chunk) sums: bias, the K-1 carried inputs oldest first, then v. Shifts v
// into the carried state [K-1] and returns silu(conv + bias).
__device__ __forceinline__ float conv_step_channel(float v, const float* __restrict__ w, float bias, float* st, int K) {
    float acc = bias;
    for (int k = 0; k < K - 1; ++k) acc += w[k] * st[k];
    acc += w[K - 1] * v;
    for (int k = 0; k + 1 < K - 1; ++k) st[k] = st[k + 1];
    if (K > 1) st[K - 2] = v;
    return num::silu(acc);
}

__device__ __forceinline__ float dot8_bf16(uint4 w, float4 a, float4 b) {
    float s = bf16_lo(w.x) * a.x;
    s += bf16_hi(w.x) * a.y;
    s += bf16_lo(w.y) * a.z;
    s += bf16_hi(w.y) * a.w;
    s += bf16_lo(w.z) * b.x;
    s += bf16_hi(w.z) * b.y;
    s += bf16_lo(w.w) * b.z;
    s += bf16_hi(w.w) * b.w;
    return s;
}

__device__ __forceinline__ float dot8_f16(uint4 w, float4 a, float4 b) {
    float s = f16_lo(w.x) * a.x;
    s += f16_hi(w.x) * a.y;
    s += f16_lo(w.y) * a.z;
    s += f16_hi(w.y) * a.w;
    s += f16_lo(w.z) * b.x;
    s += f16_hi(w.z) * b.y;
    s += f16_lo(w.w) * b.z;
    s += f16_hi(w.w) * b.w;
    return s;
}

__device__ __forceinline__ float dot4_f32(uint4 w, float4 a) {
    float s = __uint_as_float(w.x) * a.x;
    s += __uint_as_float(w.y) * a.y;
    s += __uint_as_float(w.z) * a.z;
    s += __uint_as_float(w.w) * a.w;
    return s;
}

// 8 Q4 elements (one 32-bit word of codes: byte j holds elements 2j (high nibble) and 2j+1)
// times x[0..8): sum of codebook[code] * x; the caller multiplies by the block's scale once per
// 32 elements. Each code is turned into a byte offset into the 16-entry code book in shared
// memory (16 distinct banks: conflict-free for any codes) with one shift+mask per 4 codes and
// one byte permute per code, so an element costs ~3 instructions (permute, load, FMA).
__device__ __forceinline__ float dot8_q4(uint32_t word, const float* cb, float4 a, float4 b) {
    const uint32_t hi4 = (word >> 2) & 0x3c3c3c3cu;  // byte j: 4 * code of element 2j
    const uint32_t lo4 = (word << 2) & 0x3c3c3c3cu;  // byte j: 4 * code of element 2j + 1
    const char* base = reinterpret_cast<const char*>(cb);
#define FM_Q4_AT(v, j) (*reinterpret_cast<const float*>(base + __byte_perm((v), 0u, 0x4440u | (j))))
    float s = FM_Q4_AT(hi4, 0) * a.x;
    s += FM_Q4_AT(lo4, 0) * a.y;
    s += FM_Q4_AT(hi4, 1) * a.z;
    s += FM_Q4_AT(lo4, 1) * a.w;
    s += FM_Q4_AT(hi4, 2) * b.x;
    s += FM_Q4_AT(lo4, 2) * b.y;
    s += FM_Q4_AT(hi4, 3) * b.z;
    s += FM_Q4_AT(lo4, 3) * b.w;
#undef FM_Q4_AT
    return s;
}

// Elements per 16-byte vector of codes/weights, for the vectorized paths.
__host__ __device__ inline int vec_elems(DType dt) {
    return dt == DType::Q4 ? 32 : dt == DType::F32 ? 4 : 8;
}

// Whether row r of W can be read as aligned 16-byte vectors (any r).
inline bool rows_vectorizable(const MatrixView& W) {
    const int e = vec_elems(W.dtype);
    if (W.cols % e != 0) return false;
    if (W.dtype == DType::Q4) return W.q4.block % 32 == 0 && aligned16(W.q4.codes);
    return aligned16(W.data);
}

// Dot product of row r of W with x (shared or global memory, 16-byte aligned when vec is set),
// computed by a whole warp; every lane gets the result. vec: rows_vectorizable(W).
__device__ __forceinline__ float warp_row_dot(const MatrixView& W, int64_t r, const float* x, const float* cb,
                                              bool vec) {
    const int lane = threadIdx.x & 31;
    const int64_t cols = W.cols;
    float acc = 0.0f;
    if (!vec) {
        for (int64_t c = lane; c < cols; c += 32) acc += matrix_at(W, r * cols + c, cb) * x[c];
        return warp_sum(acc);
    }
    const float4* x4 = reinterpret_cast<const float4*>(x);
    switch (W.dtype) {
    case DType::BF16:
    case DType::F16: {
        const uint4* w = reinterpret_cast<const uint4*>(static_cast<const uint16_t*>(W.data) + r * cols);
        const bool bf = W.dtype == DType::BF16;
        for (int64_t v = lane; v < cols / 8; v += 32) {
            const uint4 wv = load_weights16(w + v);
            acc += bf ? dot8_bf16(wv, x4[2 * v], x4[2 * v + 1]) : dot8_f16(wv, x4[2 * v], x4[2 * v + 1]);
        }
        break;
    }
    case DType::F32: {
        const uint4* w = reinterpret_cast<const uint4*>(static_cast<const float*>(W.data) + r * cols);
        for (int64_t v = lane; v < cols / 4; v += 32) acc += dot4_f32(load_weights16(w + v), x4[v]);
        break;
    }
    case DType::Q4: {
        const uint4* w = reinterpret_cast<const uint4*>(W.q4.codes + r * cols / 2);
        for (int64_t v = lane; v < cols / 32; v += 32) {
            const uint4 wv = load_weights16(w + v);
            const float s = W.q4.scales[(r * cols + v * 32) / W.q4.block];
            const float4* xv = x4 + 8 * v;
            float part = dot8_q4(wv.x, cb, xv[0], xv[1]);
            part += dot8_q4(wv.y, cb, xv[2], xv[3]);
            part += dot8_q4(wv.z, cb, xv[4], xv[5]);
            part += dot8_q4(wv.w, cb, xv[6], xv[7]);
            acc += s * part;
        }
        break;
    }
    default: break;
    }
    return warp_sum(acc);
}

inline Status cuda_status(cudaError_t e, const char* what) {
    if (e == cudaSuccess) return {};
    return Error{std::string(what) + " failed: " + cudaGetErrorName(e) + ": " + cudaGetErrorString(e)};
}

// Launches `kernel` on ex.stream, with programmatic dependent launch when ex.pdl is set, and
// reports a launch error naming the kernel.
template <typename... KArgs, typename... Args>
Status launch(const char* name, void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t smem, const Exec& ex,
              Args&&... args) {
    if (grid.x == 0 || grid.y == 0 || grid.z == 0) return {};
    cudaLaunchConfig_t cfg{};
    cfg.gridDim = grid;
    cfg.blockDim = block;
    cfg.dynamicSmemBytes = smem;
    cfg.stream = ex.stream;
    cudaLaunchAttribute attr[1];
    if (ex.pdl) {
        attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
        attr[0].val.programmaticStreamSerializationAllowed = 1;
        cfg.attrs = attr;
        cfg.numAttrs = 1;
    }
    cudaError_t e = cudaLaunchKernelEx(&cfg, kernel, std::forward<Args>(args)...);
    if (e == cudaSuccess) e = cudaGetLastError();
    return cuda_status(e, name);
}

}  // namespace fm::cuda::detail
