#pragma once
// Small AVX2 pieces shared by the SIMD twins (dot.cpp, q4.cpp, ssm.cpp): the reduction of an
// 8-lane accumulator in the fixed tree of kernels/cpu/dot.h, and a scalar fma. Compiled only
// into functions that carry the same target attribute (x86-64 with GCC or Clang).

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

namespace fm::cpu::simd {

// Lanes (0+4, 1+5, 2+6, 3+7), then (0+2) + (1+3): the order of dot.h.
__attribute__((target("avx2,fma"))) inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) inline float fma_ss(float a, float b, float c) {
    return _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(c)));
}

}  // namespace fm::cpu::simd

#endif
