#pragma once
// exp, softplus and silu for the CPU scan and conv, in two twins that give the same bits: a
// scalar one and an AVX2 one on 8 lanes. libm's expf/log1pf are exact to < 1 ulp but scalar;
// the scan needs one exp per (token, channel, state), ~1.6 M per token of the 7B layout, so
// these are the Cephes polynomials (exp: 1-2 ulp; log: 1-2 ulp), written so that every
// multiply-add is an explicit fma in both twins (kernels/cpu is built with -ffp-contract=off,
// so the compiler fuses nothing on its own). Edge behaviour: exp clamps its input to
// [-87.33, 88], so exp(-1000) gives FLT_MIN (1.2e-38) rather than 0 and exp(1000) 1.65e38
// rather than infinity; NaN in gives a finite value out (as the hardware min/max do).

#include <cmath>
#include <cstdint>
#include <cstring>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define FM_VMATH_X86 1
#include <immintrin.h>
#define FM_VMATH_AVX2 __attribute__((target("avx2,fma")))
#else
#define FM_VMATH_X86 0
#endif

namespace fm::cpu::vmath {

namespace k {
constexpr float kExpLo = -87.3365478515625f, kExpHi = 88.0f;
constexpr float kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
constexpr float kExpP[6] = {1.9875691500E-4f, 1.3981999507E-3f, 8.3334519073E-3f,
                            4.1665795894E-2f, 1.6666665459E-1f, 5.0000001201E-1f};
constexpr float kLogP[9] = {7.0376836292E-2f,  -1.1514610310E-1f, 1.1676998740E-1f,
                            -1.2420140846E-1f, 1.4249322787E-1f,  -1.6668057665E-1f,
                            2.0000714765E-1f,  -2.4999993993E-1f, 3.3333331174E-1f};
constexpr float kSqrtHalf = 0.707106781186547524f;
constexpr float kSoftplusThreshold = 20.0f;  // PyTorch's: above it, softplus(v) = v
}  // namespace k

inline float bits_float(uint32_t b) {
    float f;
    std::memcpy(&f, &b, 4);
    return f;
}
inline uint32_t float_bits(float f) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
}
// The hardware's maxps/minps: the second operand when either is NaN.
inline float max_hw(float a, float b) {
    return a > b ? a : b;
}
inline float min_hw(float a, float b) {
    return a < b ? a : b;
}

inline float exp(float x) {
    x = min_hw(max_hw(x, k::kExpLo), k::kExpHi);
    const float n = std::nearbyint(x * k::kLog2e);
    float r = std::fma(n, -k::kLn2Hi, x);
    r = std::fma(n, -k::kLn2Lo, r);
    float p = k::kExpP[0];
    for (int i = 1; i < 6; ++i) p = std::fma(p, r, k::kExpP[i]);
    const float y = std::fma(p, r * r, r) + 1.0f;
    return y * bits_float(static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23);
}

// Natural log of a positive normal u (here u = 1 + e >= 1).
inline float log(float u) {
    const uint32_t b = float_bits(u);
    int32_t e = static_cast<int32_t>(b >> 23) - 126;
    const float m = bits_float((b & 0x007fffffu) | 0x3f000000u);
    const bool low = m < k::kSqrtHalf;
    e -= low ? 1 : 0;
    const float x = (m - 1.0f) + (low ? m : 0.0f);
    const float z = x * x;
    float y = k::kLogP[0];
    for (int i = 1; i < 9; ++i) y = std::fma(y, x, k::kLogP[i]);
    y = y * x * z;
    const float ef = static_cast<float>(e);
    y = std::fma(ef, k::kLn2Lo, y);
    y = std::fma(z, -0.5f, y);
    return std::fma(ef, k::kLn2Hi, x + y);
}

// log(1 + exp(v)), or v above the threshold. log1p(e) as log(u) * e / (u - 1) with u = 1 + e
// keeps full relative precision when e is tiny (u - 1 is exact).
inline float softplus(float v) {
    const float e = exp(v);
    const float u = 1.0f + e;
    const float l = u == 1.0f ? e : log(u) * (e / (u - 1.0f));
    return v > k::kSoftplusThreshold ? v : l;
}

inline float silu(float v) {
    return v / (1.0f + exp(-v));
}

#if FM_VMATH_X86

FM_VMATH_AVX2 inline __m256 exp(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(k::kExpLo)), _mm256_set1_ps(k::kExpHi));
    const __m256 n =
        _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(k::kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-k::kLn2Hi), x);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(-k::kLn2Lo), r);
    __m256 p = _mm256_set1_ps(k::kExpP[0]);
    for (int i = 1; i < 6; ++i) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(k::kExpP[i]));
    const __m256 y = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    const __m256i scale = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(scale));
}

FM_VMATH_AVX2 inline __m256 log(__m256 u) {
    const __m256i b = _mm256_castps_si256(u);
    __m256i e = _mm256_sub_epi32(_mm256_srli_epi32(b, 23), _mm256_set1_epi32(126));
    const __m256 m = _mm256_castsi256_ps(
        _mm256_or_si256(_mm256_and_si256(b, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x3f000000)));
    const __m256 low = _mm256_cmp_ps(m, _mm256_set1_ps(k::kSqrtHalf), _CMP_LT_OQ);
    e = _mm256_sub_epi32(e, _mm256_and_si256(_mm256_castps_si256(low), _mm256_set1_epi32(1)));
    const __m256 x = _mm256_add_ps(_mm256_sub_ps(m, _mm256_set1_ps(1.0f)), _mm256_and_ps(low, m));
    const __m256 z = _mm256_mul_ps(x, x);
    __m256 y = _mm256_set1_ps(k::kLogP[0]);
    for (int i = 1; i < 9; ++i) y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(k::kLogP[i]));
    y = _mm256_mul_ps(_mm256_mul_ps(y, x), z);
    const __m256 ef = _mm256_cvtepi32_ps(e);
    y = _mm256_fmadd_ps(ef, _mm256_set1_ps(k::kLn2Lo), y);
    y = _mm256_fmadd_ps(z, _mm256_set1_ps(-0.5f), y);
    return _mm256_fmadd_ps(ef, _mm256_set1_ps(k::kLn2Hi), _mm256_add_ps(x, y));
}

FM_VMATH_AVX2 inline __m256 softplus(__m256 v) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 e = exp(v);
    const __m256 u = _mm256_add_ps(one, e);
    const __m256 l = _mm256_mul_ps(log(u), _mm256_div_ps(e, _mm256_sub_ps(u, one)));
    const __m256 tiny = _mm256_cmp_ps(u, one, _CMP_EQ_OQ);
    const __m256 big = _mm256_cmp_ps(v, _mm256_set1_ps(k::kSoftplusThreshold), _CMP_GT_OQ);
    return _mm256_blendv_ps(_mm256_blendv_ps(l, e, tiny), v, big);
}

FM_VMATH_AVX2 inline __m256 silu(__m256 v) {
    const __m256 neg = _mm256_sub_ps(_mm256_setzero_ps(), v);
    return _mm256_div_ps(v, _mm256_add_ps(_mm256_set1_ps(1.0f), exp(neg)));
}

#endif  // FM_VMATH_X86

}  // namespace fm::cpu::vmath

#include "kernels/cpu/dot.h"

namespace fm::cpu::vmath {

// v[i] = softplus(v[i] + bias[i]) for i < n (bias may be null: no bias).
void softplus_biased(float* v, const float* bias, int64_t n, detail::Isa isa = detail::Isa::Auto);

}  // namespace fm::cpu::vmath
