// Design. Decode is a stream of weights past a vector that sits in L1: the AVX2 matrix-vector
// kernels take four rows at once (eight independent FMA chains, enough to cover the FMA latency,
// and four sequential streams the hardware prefetcher follows), widen bf16 with vpmovzxwd +
// vpslld, and share each load of x among the four rows. Prefill multiplies an fp32 tile of up to
// 16 rows (converted once, in L2) by blocks of kTokenBlock tokens: a 2-row x 3-token
// micro-kernel keeps 12 accumulators in registers (two per output: the order in dot.h) over
// column panels of kPanel, so that the tile's panel and the tokens' panel stay in L1; the
// accumulators wait in a small buffer between panels. The scalar twins follow the same order
// with std::fma, so both twins give the same bits.

#include "kernels/cpu/dot.h"
#include "kernels/cpu/simd_avx2.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define FM_X86 1
#include <immintrin.h>
#define FM_AVX2 __attribute__((target("avx2,fma")))
#define FM_AVX512 __attribute__((target("avx512f,avx2,fma")))
#else
#define FM_X86 0
#endif

namespace fm::cpu::detail {
namespace {

// kPanel: measured on the mid model (prefill, 2 threads): 1024 columns beat 256 and 512 by
// ~10% with the AVX-512 twin (fewer trips of the accumulators through memory), 2048 no better.
constexpr int64_t kTokenBlock = 12;
constexpr int64_t kPanel = 1024;
// How far ahead of the decode loads each row stream is prefetched: measured on the mid model
// (2 threads), 512-768 bytes gives ~20% more decode speed than the hardware prefetcher alone;
// 2-4 KiB ahead is slower again.
constexpr int64_t kPrefetchBytes = 768;

inline float widen(uint16_t h) {
    const uint32_t bits = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

// ---- the scalar twins ----------------------------------------------------------------------

struct Lanes {
    float a[8] = {}, b[8] = {};
    float tail = 0.0f;
    float sum() const {
        float v[8];
        for (int k = 0; k < 8; ++k) v[k] = a[k] + b[k];
        const float s0 = v[0] + v[4], s1 = v[1] + v[5], s2 = v[2] + v[6], s3 = v[3] + v[7];
        return ((s0 + s2) + (s1 + s3)) + tail;
    }
};

template <typename Load>
float dot_scalar(Load w, const float* x, int64_t n) {
    Lanes l;
    int64_t j = 0;
    for (; j + 16 <= n; j += 16)
        for (int k = 0; k < 8; ++k) {
            l.a[k] = std::fma(w(j + k), x[j + k], l.a[k]);
            l.b[k] = std::fma(w(j + 8 + k), x[j + 8 + k], l.b[k]);
        }
    if (j + 8 <= n) {
        for (int k = 0; k < 8; ++k) l.a[k] = std::fma(w(j + k), x[j + k], l.a[k]);
        j += 8;
    }
    for (; j < n; ++j) l.tail = std::fma(w(j), x[j], l.tail);
    return l.sum();
}

inline void put(float* y, float v, bool accumulate) {
    *y = accumulate ? *y + v : v;
}

// ---- the AVX2 twins ------------------------------------------------------------------------

#if FM_X86

FM_AVX2 inline __m256 load8(const float* p) {
    return _mm256_loadu_ps(p);
}
FM_AVX2 inline __m256 load8(const uint16_t* p) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}
inline float load1(const float* p) {
    return *p;
}
inline float load1(const uint16_t* p) {
    return widen(*p);
}

// NR rows starting at w (row stride ld) against x: y[r] (+)= dot, the order of dot.h.
template <int NR, typename W>
FM_AVX2 inline void rows_avx2(const W* w, int64_t ld, int64_t cols, const float* x, float* y, bool accumulate) {
    __m256 a[NR], b[NR];
    for (int r = 0; r < NR; ++r) a[r] = b[r] = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 16 <= cols; j += 16) {
        const __m256 x0 = _mm256_loadu_ps(x + j), x1 = _mm256_loadu_ps(x + j + 8);
#pragma GCC unroll 4
        for (int r = 0; r < NR; ++r) {
            if ((j * static_cast<int64_t>(sizeof(W))) % 64 == 0)
                _mm_prefetch(reinterpret_cast<const char*>(w + r * ld + j) + kPrefetchBytes, _MM_HINT_T0);
            a[r] = _mm256_fmadd_ps(load8(w + r * ld + j), x0, a[r]);
            b[r] = _mm256_fmadd_ps(load8(w + r * ld + j + 8), x1, b[r]);
        }
    }
    if (j + 8 <= cols) {
        const __m256 x0 = _mm256_loadu_ps(x + j);
        for (int r = 0; r < NR; ++r) a[r] = _mm256_fmadd_ps(load8(w + r * ld + j), x0, a[r]);
        j += 8;
    }
    for (int r = 0; r < NR; ++r) {
        float tail = 0.0f;
        for (int64_t k = j; k < cols; ++k) tail = simd::fma_ss(load1(w + r * ld + k), x[k], tail);
        put(y + r, simd::hsum8(_mm256_add_ps(a[r], b[r])) + tail, accumulate);
    }
}

template <typename W>
FM_AVX2 void gemv_avx2(const W* w, int64_t ld, int64_t rows, int64_t cols, const float* x, float* y, bool accumulate) {
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) rows_avx2<4>(w + r * ld, ld, cols, x, y + r, accumulate);
    for (; r < rows; ++r) rows_avx2<1>(w + r * ld, ld, cols, x, y + r, accumulate);
}

// NR tile rows x NT tokens over columns [j0, j1) (multiples of 16); accumulators of output
// (r, t) live at acc + (r * acc_ld + t) * 16: 8 lanes of a, then 8 lanes of b.
template <int NR, int NT>
FM_AVX2 inline void micro(const float* w, int64_t ldw, const float* const* xs, int64_t j0, int64_t j1, float* acc,
                          int64_t acc_ld) {
    __m256 A[NR][NT], B[NR][NT];
#pragma GCC unroll 4
    for (int r = 0; r < NR; ++r)
#pragma GCC unroll 4
        for (int t = 0; t < NT; ++t) {
            A[r][t] = _mm256_loadu_ps(acc + (r * acc_ld + t) * 16);
            B[r][t] = _mm256_loadu_ps(acc + (r * acc_ld + t) * 16 + 8);
        }
    for (int64_t j = j0; j < j1; j += 16) {
        __m256 wv[NR];
#pragma GCC unroll 4
        for (int r = 0; r < NR; ++r) wv[r] = _mm256_loadu_ps(w + r * ldw + j);
#pragma GCC unroll 4
        for (int t = 0; t < NT; ++t) {
            const __m256 xv = _mm256_loadu_ps(xs[t] + j);
#pragma GCC unroll 4
            for (int r = 0; r < NR; ++r) A[r][t] = _mm256_fmadd_ps(wv[r], xv, A[r][t]);
        }
#pragma GCC unroll 4
        for (int r = 0; r < NR; ++r) wv[r] = _mm256_loadu_ps(w + r * ldw + j + 8);
#pragma GCC unroll 4
        for (int t = 0; t < NT; ++t) {
            const __m256 xv = _mm256_loadu_ps(xs[t] + j + 8);
#pragma GCC unroll 4
            for (int r = 0; r < NR; ++r) B[r][t] = _mm256_fmadd_ps(wv[r], xv, B[r][t]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; ++r)
#pragma GCC unroll 4
        for (int t = 0; t < NT; ++t) {
            _mm256_storeu_ps(acc + (r * acc_ld + t) * 16, A[r][t]);
            _mm256_storeu_ps(acc + (r * acc_ld + t) * 16 + 8, B[r][t]);
        }
}

using MicroFn = void (*)(const float*, int64_t, const float* const*, int64_t, int64_t, float*, int64_t);
constexpr MicroFn kMicro[2][3] = {{micro<1, 1>, micro<1, 2>, micro<1, 3>}, {micro<2, 1>, micro<2, 2>, micro<2, 3>}};

// One panel [p, pe) of a token block: every (row, token) pair's accumulators in `acc`.
using PanelFn = void (*)(const float* w, int64_t ldw, int64_t rows, const float* const* xs, int64_t nt, int64_t p,
                         int64_t pe, float* acc);

FM_AVX2 void panel_avx2(const float* w, int64_t ldw, int64_t rows, const float* const* xs, int64_t nt, int64_t p,
                        int64_t pe, float* acc) {
    for (int64_t t = 0; t < nt; t += 3) {
        const int nt3 = static_cast<int>(std::min<int64_t>(3, nt - t));
        for (int64_t r = 0; r < rows; r += 2) {
            const int nr2 = static_cast<int>(std::min<int64_t>(2, rows - r));
            kMicro[nr2 - 1][nt3 - 1](w + r * ldw, ldw, xs + t, p, pe, acc + (r * kTokenBlock + t) * 16, kTokenBlock);
        }
    }
}

// AVX-512: one 16-lane register per output holds its two 8-lane accumulators side by side
// (lanes 0-7 = a, 8-15 = b), so one fma per 16 columns is exactly the order of dot.h. 4 rows x
// 6 tokens = 24 accumulators, 4 weight registers and one for x: 29 of the 32 registers.
template <int NR, int NT>
FM_AVX512 inline void micro512(const float* w, int64_t ldw, const float* const* xs, int64_t j0, int64_t j1, float* acc,
                               int64_t acc_ld) {
    __m512 A[NR][NT];
#pragma GCC unroll 6
    for (int r = 0; r < NR; ++r)
#pragma GCC unroll 6
        for (int t = 0; t < NT; ++t) A[r][t] = _mm512_loadu_ps(acc + (r * acc_ld + t) * 16);
    for (int64_t j = j0; j < j1; j += 16) {
        __m512 wv[NR];
#pragma GCC unroll 6
        for (int r = 0; r < NR; ++r) wv[r] = _mm512_loadu_ps(w + r * ldw + j);
#pragma GCC unroll 6
        for (int t = 0; t < NT; ++t) {
            const __m512 xv = _mm512_loadu_ps(xs[t] + j);
#pragma GCC unroll 6
            for (int r = 0; r < NR; ++r) A[r][t] = _mm512_fmadd_ps(wv[r], xv, A[r][t]);
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < NR; ++r)
#pragma GCC unroll 6
        for (int t = 0; t < NT; ++t) _mm512_storeu_ps(acc + (r * acc_ld + t) * 16, A[r][t]);
}

template <int NR>
constexpr MicroFn kMicro512Row[6] = {micro512<NR, 1>, micro512<NR, 2>, micro512<NR, 3>,
                                     micro512<NR, 4>, micro512<NR, 5>, micro512<NR, 6>};
constexpr const MicroFn* kMicro512[4] = {kMicro512Row<1>, kMicro512Row<2>, kMicro512Row<3>, kMicro512Row<4>};

FM_AVX512 void panel_avx512(const float* w, int64_t ldw, int64_t rows, const float* const* xs, int64_t nt, int64_t p,
                            int64_t pe, float* acc) {
    for (int64_t t = 0; t < nt; t += 6) {
        const int nt6 = static_cast<int>(std::min<int64_t>(6, nt - t));
        for (int64_t r = 0; r < rows; r += 4) {
            const int nr4 = static_cast<int>(std::min<int64_t>(4, rows - r));
            kMicro512[nr4 - 1][nt6 - 1](w + r * ldw, ldw, xs + t, p, pe, acc + (r * kTokenBlock + t) * 16, kTokenBlock);
        }
    }
}

FM_AVX2 void gemm_tile_avx2(const float* w, int64_t ldw, int64_t rows, int64_t cols, const float* X, int64_t T,
                            int64_t ldx, float* Y, int64_t ldy, bool accumulate, PanelFn panel) {
    thread_local std::vector<float> acc;
    acc.resize(static_cast<size_t>(std::max<int64_t>(rows, 4) * kTokenBlock * 16));
    const int64_t cols16 = cols / 16 * 16;
    for (int64_t tb = 0; tb < T; tb += kTokenBlock) {
        const int64_t nt = std::min(kTokenBlock, T - tb);
        const float* xs[kTokenBlock];
        for (int64_t k = 0; k < nt; ++k) xs[k] = X + (tb + k) * ldx;
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (int64_t p = 0; p < cols16; p += kPanel)
            panel(w, ldw, rows, xs, nt, p, std::min(cols16, p + kPanel), acc.data());
        // The last 8-column chunk (into a), the scalar tail, the reduction.
        for (int64_t i = 0; i < rows; ++i) {
            const float* wr = w + i * ldw;
            for (int64_t t = 0; t < nt; ++t) {
                const float* x = xs[t];
                __m256 a = _mm256_loadu_ps(acc.data() + (i * kTokenBlock + t) * 16);
                const __m256 b = _mm256_loadu_ps(acc.data() + (i * kTokenBlock + t) * 16 + 8);
                int64_t j = cols16;
                if (j + 8 <= cols) {
                    a = _mm256_fmadd_ps(_mm256_loadu_ps(wr + j), _mm256_loadu_ps(x + j), a);
                    j += 8;
                }
                float tail = 0.0f;
                for (; j < cols; ++j) tail = simd::fma_ss(wr[j], x[j], tail);
                put(Y + (tb + t) * ldy + i, simd::hsum8(_mm256_add_ps(a, b)) + tail, accumulate);
            }
        }
    }
}

FM_AVX2 float dot_avx2(const float* a, const float* b, int64_t n) {
    float y = 0.0f;
    rows_avx2<1>(a, 0, n, b, &y, false);
    return y;
}

FM_AVX2 void bf16_to_f32_avx2(const uint16_t* w, float* out, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, load8(w + i));
    for (; i < n; ++i) out[i] = widen(w[i]);
}

#endif  // FM_X86

}  // namespace

bool avx2_available() {
#if FM_X86
    static const bool ok = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }();
    return ok;
#else
    return false;
#endif
}

bool avx512_available() {
#if FM_X86
    static const bool ok = [] {
        __builtin_cpu_init();
        return avx2_available() && __builtin_cpu_supports("avx512f");
    }();
    return ok;
#else
    return false;
#endif
}

Isa resolve(Isa isa) {
    if (isa == Isa::Portable || !avx2_available()) return Isa::Portable;
    if (isa == Isa::Avx2) return Isa::Avx2;
    return avx512_available() ? Isa::Avx512 : Isa::Avx2;
}

bool wide(Isa isa) {
    return resolve(isa) != Isa::Portable;
}

const char* isa_name(Isa isa) {
    switch (resolve(isa)) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "portable";
    }
}

float dot_f32(const float* a, const float* b, int64_t n, Isa isa) {
#if FM_X86
    if (wide(isa)) return dot_avx2(a, b, n);
#endif
    return dot_scalar([a](int64_t i) { return a[i]; }, b, n);
}

void gemv_f32(const float* w, int64_t ld, int64_t rows, int64_t cols, const float* x, float* y, bool accumulate,
              Isa isa) {
#if FM_X86
    if (wide(isa)) return gemv_avx2(w, ld, rows, cols, x, y, accumulate);
#endif
    for (int64_t r = 0; r < rows; ++r) {
        const float* row = w + r * ld;
        put(y + r, dot_scalar([row](int64_t i) { return row[i]; }, x, cols), accumulate);
    }
}

void gemv_bf16(const uint16_t* w, int64_t ld, int64_t rows, int64_t cols, const float* x, float* y, bool accumulate,
               Isa isa) {
#if FM_X86
    if (wide(isa)) return gemv_avx2(w, ld, rows, cols, x, y, accumulate);
#endif
    for (int64_t r = 0; r < rows; ++r) {
        const uint16_t* row = w + r * ld;
        put(y + r, dot_scalar([row](int64_t i) { return widen(row[i]); }, x, cols), accumulate);
    }
}

void gemm_tile(const float* w, int64_t ldw, int64_t rows, int64_t cols, const float* X, int64_t T, int64_t ldx,
               float* Y, int64_t ldy, bool accumulate, Isa isa) {
    if (rows <= 0 || T <= 0) return;
#if FM_X86
    if (resolve(isa) == Isa::Avx512)
        return gemm_tile_avx2(w, ldw, rows, cols, X, T, ldx, Y, ldy, accumulate, panel_avx512);
    if (resolve(isa) == Isa::Avx2) return gemm_tile_avx2(w, ldw, rows, cols, X, T, ldx, Y, ldy, accumulate, panel_avx2);
#endif
    for (int64_t r = 0; r < rows; ++r) {
        const float* row = w + r * ldw;
        for (int64_t t = 0; t < T; ++t)
            put(Y + t * ldy + r, dot_scalar([row](int64_t i) { return row[i]; }, X + t * ldx, cols), accumulate);
    }
}

void bf16_to_f32(const uint16_t* w, float* out, int64_t n, Isa isa) {
#if FM_X86
    if (wide(isa)) return bf16_to_f32_avx2(w, out, n);
#endif
    for (int64_t i = 0; i < n; ++i) out[i] = widen(w[i]);
}

}  // namespace fm::cpu::detail
