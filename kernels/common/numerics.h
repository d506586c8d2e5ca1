#pragma once
// Per-element math shared by the CPU kernels and the CUDA kernels. Everything here is
// __host__ __device__ so that the CPU tests cover exactly the code the GPU runs.

#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define FM_HD __host__ __device__ __forceinline__
#else
#define FM_HD inline
#endif

namespace fm::num {

FM_HD float bits_to_float(uint32_t bits) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(bits);
#else
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
#endif
}

FM_HD uint32_t float_to_bits(float f) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(f);
#else
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    return bits;
#endif
}

// bfloat16 is the top half of an IEEE float32.
FM_HD float bf16_to_float(uint16_t h) {
    return bits_to_float(static_cast<uint32_t>(h) << 16);
}

// Round to nearest even, as PyTorch does; NaN stays NaN.
FM_HD uint16_t float_to_bf16(float f) {
    uint32_t bits = float_to_bits(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
    uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
    return static_cast<uint16_t>((bits + rounding) >> 16);
}

// IEEE half precision to float, including subnormals, infinities and NaN.
FM_HD float f16_to_float(uint16_t h) {
    uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1fu;
    uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0) {
        // subnormal: mantissa * 2^-24
        float v = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    if (exponent == 31) return bits_to_float(sign | 0x7f800000u | (mantissa << 13));
    return bits_to_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

// Round to nearest even; overflow goes to infinity.
FM_HD uint16_t float_to_f16(float f) {
    uint32_t bits = float_to_bits(f);
    uint32_t sign = (bits >> 16) & 0x8000u;
    uint32_t abs = bits & 0x7fffffffu;
    if (abs > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);   // NaN
    if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
    if (abs < 0x38800000u) {                                               // subnormal or zero
        if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
        uint32_t e = abs >> 23;
        uint32_t m = (abs & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126u - e;  // 14..24
        uint32_t half = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1u);
        uint32_t mid = 1u << (shift - 1u);
        if (rem > mid || (rem == mid && (half & 1u))) ++half;
        return static_cast<uint16_t>(sign | half);
    }
    uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
    return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
}

// softplus as PyTorch computes it with threshold 20 (docs/model.md, The forward pass).
FM_HD float softplus(float v) {
    return v > 20.0f ? v : log1pf(expf(v));
}

FM_HD float sigmoid(float v) {
    return 1.0f / (1.0f + expf(-v));
}

FM_HD float silu(float v) {
    return v / (1.0f + expf(-v));
}

// One step of the selective-scan recurrence for a single (channel, state) pair:
// s = exp(dt*A) * s + dt*B*x. Returns the new state.
FM_HD float ssm_update(float s, float dt, float a, float b, float x) {
    return expf(dt * a) * s + dt * b * x;
}

// Scale that turns v into rms(v, eps): 1 / sqrt(mean(v*v) + eps).
FM_HD float rms_scale(float sum_of_squares, int n, float eps) {
    return 1.0f / sqrtf(sum_of_squares / static_cast<float>(n) + eps);
}

}  // namespace fm::num
