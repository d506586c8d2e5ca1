#include "kernels/cpu/q4.h"
#include "kernels/cpu/simd_avx2.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/cpu/thread_pool.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define FM_Q4_X86 1
#include <immintrin.h>
#define FM_AVX2 __attribute__((target("avx2,fma")))
#define FM_AVX512 __attribute__((target("avx512f,avx2,fma")))
#else
#define FM_Q4_X86 0
#endif

namespace fm::cpu {
namespace {

// ---------------------------------------------------------------------------------------------
// Portable path: the same order of operations as the AVX2 path, written on 8-float arrays that
// compilers vectorize (SSE2, NEON).

inline int code_at(const uint8_t* codes, int64_t i) {
    const uint8_t b = codes[i >> 1];
    return (i & 1) ? (b & 0x0f) : (b >> 4);
}

// Elements [first, first + n) of the flattened matrix as fp32.
void dequantize_span(const Q4Data& q, int64_t first, int64_t n, float* out) {
    if (q.block <= 0) {
        std::fill(out, out + n, 0.0f);
        return;
    }
    int64_t i = 0;
    while (i < n) {
        const int64_t e = first + i;
        const int64_t b = e / q.block;
        const int64_t seg_end = std::min<int64_t>(n, (b + 1) * q.block - first);
        const float s = q.scales[b];
        // The code book times this block's scale: the same products as codebook[c] * s.
        float lut[16];
        for (int k = 0; k < 16; ++k) lut[k] = q.codebook[k] * s;
        if ((e & 1) == 0) {
            // Byte-aligned: two elements per byte.
            const uint8_t* c = q.codes + (e >> 1);
            for (; i + 2 <= seg_end; i += 2, ++c) {
                out[i] = lut[*c >> 4];
                out[i + 1] = lut[*c & 0x0f];
            }
        }
        for (; i < seg_end; ++i) out[i] = lut[code_at(q.codes, first + i)];
    }
}

bool fast_layout(const MatrixView& W) {
    return W.q4.block > 0 && W.q4.block % 16 == 0 && W.cols % W.q4.block == 0;
}

// ---------------------------------------------------------------------------------------------
// Block quantizer, scalar: also used for partial blocks on the AVX2 path.

struct QuantTables {
    float cb[16];
    float mid[15];
    int zero_code = 0;
};

QuantTables make_tables(const float* codebook) {
    QuantTables t;
    for (int k = 0; k < 16; ++k) t.cb[k] = codebook[k];
    for (int k = 0; k < 15; ++k) t.mid[k] = 0.5f * (codebook[k] + codebook[k + 1]);
    int z = 0;
    for (int k = 0; k < 15; ++k) z += 0.0f > t.mid[k];
    t.zero_code = z;
    return t;
}

constexpr int kMaxBlock = 4096;

// Codes of w / s into out; returns squared error, and Σ w·q and Σ q·q for the least-squares refit.
float assign_scalar(const QuantTables& t, const float* w, int len, float s, int32_t* out, float& wq, float& qq) {
    const float inv = 1.0f / s;
    float e = 0.0f;
    wq = 0.0f;
    qq = 0.0f;
    for (int i = 0; i < len; ++i) {
        const float v = w[i] * inv;
        int c = 0;
        for (int k = 0; k < 15; ++k) c += v > t.mid[k];
        out[i] = c;
        const float q = t.cb[c];
        const float d = w[i] - q * s;
        e += d * d;
        wq += w[i] * q;
        qq += q * q;
    }
    return e;
}

// Returns false when the block holds a non-finite value (the block is then written as zeros).
bool quantize_block_scalar(const QuantTables& t, const float* w, int len, uint8_t* codes, float* scale) {
    float hi = -std::numeric_limits<float>::infinity(), lo = std::numeric_limits<float>::infinity();
    bool finite = true;
    for (int i = 0; i < len; ++i) {
        finite = finite && std::isfinite(w[i]);
        hi = std::max(hi, w[i]);
        lo = std::min(lo, w[i]);
    }
    int32_t buf_a[kMaxBlock], buf_b[kMaxBlock];
    int32_t* best = buf_a;
    int32_t* cur = buf_b;
    float best_s = 0.0f;
    const float mx = hi >= -lo ? hi : lo;
    if (!finite || mx == 0.0f) {
        std::fill(best, best + len, t.zero_code);
    } else {
        const float candidates[4] = {mx, -mx, 0.9f * mx, -0.9f * mx};
        float best_e = std::numeric_limits<float>::infinity(), best_wq = 0.0f, best_qq = 0.0f;
        for (float s : candidates) {
            float wq, qq;
            const float e = assign_scalar(t, w, len, s, cur, wq, qq);
            if (e < best_e) {
                best_e = e;
                best_s = s;
                best_wq = wq;
                best_qq = qq;
                std::swap(cur, best);
            }
        }
        const float s = best_qq > 0.0f ? best_wq / best_qq : 0.0f;
        if (s != 0.0f && std::isfinite(s)) {
            float wq, qq;
            if (assign_scalar(t, w, len, s, cur, wq, qq) < best_e) {
                best_s = s;
                std::swap(cur, best);
            }
        }
    }
    *scale = best_s;
    for (int i = 0; i + 1 < len; i += 2) codes[i / 2] = static_cast<uint8_t>((best[i] << 4) | best[i + 1]);
    if (len & 1) codes[len / 2] = static_cast<uint8_t>(best[len - 1] << 4);
    return finite;
}

// ---------------------------------------------------------------------------------------------
// AVX2 + FMA path.

#if FM_Q4_X86

// Eight 4-bit codes (4 bytes, element 2k = high nibble of byte k) looked up in a 16-entry table
// held as two 8-float halves: vpermps on each half (it reads the low 3 bits of each lane), then
// a blend on bit 3, moved into the sign bit by a variable left shift.
FM_AVX2 inline __m256 lut8(__m256 lo, __m256 hi, const uint8_t* p) {
    uint32_t u;
    std::memcpy(&u, p, 4);
    const __m256i word = _mm256_set1_epi32(static_cast<int>(u));
    const __m256i idx = _mm256_srlv_epi32(word, _mm256_setr_epi32(4, 0, 12, 8, 20, 16, 28, 24));
    const __m256i sel = _mm256_slli_epi32(idx, 28);
    const __m256 a = _mm256_permutevar8x32_ps(lo, idx);
    const __m256 b = _mm256_permutevar8x32_ps(hi, idx);
    return _mm256_blendv_ps(a, b, _mm256_castsi256_ps(sel));
}

// How far ahead of the kernels' reads the codes are prefetched, in bytes (measured: 4 KiB
// brings a DRAM-resident matrix to the speed of an L3-resident one).
constexpr int kPrefetch = 4096;

// Dequantizes one row of a fast-layout matrix: the same products as dequantize_span.
FM_AVX2 void dequantize_row_avx2(const Q4Data& q, int64_t r, int64_t cols, float* out) {
    const __m256 lo = _mm256_loadu_ps(q.codebook), hi = _mm256_loadu_ps(q.codebook + 8);
    const int64_t block = q.block, nb = cols / block;
    const uint8_t* c = q.codes + r * cols / 2;
    const float* sc = q.scales + r * nb;
    for (int64_t b = 0; b < nb; ++b) {
        const __m256 s = _mm256_set1_ps(sc[b]);
        const __m256 ls = _mm256_mul_ps(lo, s), hs = _mm256_mul_ps(hi, s);
        const uint8_t* cb = c + b * block / 2;
        float* o = out + b * block;
        _mm_prefetch(reinterpret_cast<const char*>(cb) + kPrefetch, _MM_HINT_T0);
        for (int64_t j = 0; j < block; j += 8) _mm256_storeu_ps(o + j, lut8(ls, hs, cb + j / 2));
    }
}

// Decode, one row of a fast-layout matrix straight from the codes: the order of dot_avx2 (every
// block holds a whole number of 16-element pairs and there is no tail).
FM_AVX2 float row_dot_fused(const Q4Data& q, int64_t r, int64_t cols, const float* x) {
    const __m256 lo = _mm256_loadu_ps(q.codebook), hi = _mm256_loadu_ps(q.codebook + 8);
    const int64_t block = q.block, nb = cols / block;
    const uint8_t* c = q.codes + r * cols / 2;
    const float* sc = q.scales + r * nb;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const __m256 s = _mm256_set1_ps(sc[b]);
        const __m256 ls = _mm256_mul_ps(lo, s), hs = _mm256_mul_ps(hi, s);
        const uint8_t* cb = c + b * block / 2;
        const float* xb = x + b * block;
        _mm_prefetch(reinterpret_cast<const char*>(cb) + kPrefetch, _MM_HINT_T0);
        for (int64_t j = 0; j < block; j += 16) {
            acc0 = _mm256_fmadd_ps(lut8(ls, hs, cb + j / 2), _mm256_loadu_ps(xb + j), acc0);
            acc1 = _mm256_fmadd_ps(lut8(ls, hs, cb + j / 2 + 4), _mm256_loadu_ps(xb + j + 8), acc1);
        }
    }
    return simd::hsum8(_mm256_add_ps(acc0, acc1)) + 0.0f;
}

// Two rows at once: shares the x loads and keeps four FMA chains in flight.
FM_AVX2 void row_dot_fused2(const Q4Data& q, int64_t r, int64_t cols, const float* x, float* out) {
    const __m256 lo = _mm256_loadu_ps(q.codebook), hi = _mm256_loadu_ps(q.codebook + 8);
    const int64_t block = q.block, nb = cols / block;
    const uint8_t* c0 = q.codes + r * cols / 2;
    const uint8_t* c1 = c0 + cols / 2;
    const float* sc0 = q.scales + r * nb;
    const float* sc1 = sc0 + nb;
    __m256 a0 = _mm256_setzero_ps(), b0 = a0, a1 = a0, b1 = a0;
    for (int64_t b = 0; b < nb; ++b) {
        const __m256 s0 = _mm256_set1_ps(sc0[b]), s1 = _mm256_set1_ps(sc1[b]);
        const __m256 l0 = _mm256_mul_ps(lo, s0), h0 = _mm256_mul_ps(hi, s0);
        const __m256 l1 = _mm256_mul_ps(lo, s1), h1 = _mm256_mul_ps(hi, s1);
        const uint8_t* p0 = c0 + b * block / 2;
        const uint8_t* p1 = c1 + b * block / 2;
        const float* xb = x + b * block;
        // Codes come from DRAM in a long stream: ask for them well ahead (the hardware
        // prefetcher alone leaves this loop waiting on memory).
        _mm_prefetch(reinterpret_cast<const char*>(p0) + kPrefetch, _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(p1) + kPrefetch, _MM_HINT_T0);
        for (int64_t j = 0; j < block; j += 16) {
            const __m256 xa = _mm256_loadu_ps(xb + j), xc = _mm256_loadu_ps(xb + j + 8);
            a0 = _mm256_fmadd_ps(lut8(l0, h0, p0 + j / 2), xa, a0);
            b0 = _mm256_fmadd_ps(lut8(l0, h0, p0 + j / 2 + 4), xc, b0);
            a1 = _mm256_fmadd_ps(lut8(l1, h1, p1 + j / 2), xa, a1);
            b1 = _mm256_fmadd_ps(lut8(l1, h1, p1 + j / 2 + 4), xc, b1);
        }
    }
    out[0] = simd::hsum8(_mm256_add_ps(a0, b0)) + 0.0f;
    out[1] = simd::hsum8(_mm256_add_ps(a1, b1)) + 0.0f;
}

// AVX-512 twin of the decode and dequantize kernels. vpermps on 16 lanes reads a whole 16-entry
// code book from one register, so one lookup serves 16 weights (AVX2 needs two lookups and a
// blend per 8). 16 code bytes (32 weights: element 2k is the high nibble of byte k) are widened
// to 16 dwords; their high and low nibbles are interleaved back into element order with two
// vpermt2d, giving the codes of elements 0-15 and 16-31. Each row keeps one 16-lane accumulator
// = the two 8-lane accumulators of dot.h side by side, so the bits equal the AVX2 twin's. Four
// rows at once: four independent FMA chains and one x load for all four.
constexpr int kRowsAvx512 = 4;

bool avx512_layout(const MatrixView& W) {
    return W.q4.block > 0 && W.q4.block % 32 == 0 && W.cols % W.q4.block == 0;
}

struct Nibbles512 {
    __m512i first, second;  // the codes of elements 0-15 and 16-31 of a 32-element group
};

FM_AVX512 inline Nibbles512 nibbles512(const uint8_t* p) {
    const __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    const __m512i hi = _mm512_srli_epi32(bytes, 4);
    const __m512i lo = _mm512_and_si512(bytes, _mm512_set1_epi32(15));
    const __m512i first = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i second = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    return {_mm512_permutex2var_epi32(hi, first, lo), _mm512_permutex2var_epi32(hi, second, lo)};
}

FM_AVX512 inline float reduce512(__m512 v) {
    const __m256 upper = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    return simd::hsum8(_mm256_add_ps(_mm512_castps512_ps256(v), upper));
}

FM_AVX512 void rows_dot_avx512(const Q4Data& q, int64_t r, int64_t cols, const float* x, float* out) {
    const __m512 book = _mm512_loadu_ps(q.codebook);
    const int64_t block = q.block, nb = cols / block;
    // Whole bytes: avx512_layout() makes every row start on a byte (cols is a multiple of 32).
    const uint8_t* codes[kRowsAvx512];
    const float* scales[kRowsAvx512];
    __m512 acc[kRowsAvx512], lut[kRowsAvx512];
    for (int k = 0; k < kRowsAvx512; ++k) {
        codes[k] = q.codes + (r + k) * (cols / 2);
        scales[k] = q.scales + (r + k) * nb;
        acc[k] = _mm512_setzero_ps();
    }
    for (int64_t b = 0; b < nb; ++b) {
        for (int k = 0; k < kRowsAvx512; ++k) {
            lut[k] = _mm512_mul_ps(book, _mm512_set1_ps(scales[k][b]));
            _mm_prefetch(reinterpret_cast<const char*>(codes[k]) + kPrefetch, _MM_HINT_T0);
        }
        const float* xb = x + b * block;
        for (int64_t g = 0; g < block; g += 32) {
            const __m512 x0 = _mm512_loadu_ps(xb + g), x1 = _mm512_loadu_ps(xb + g + 16);
#pragma GCC unroll 4
            for (int k = 0; k < kRowsAvx512; ++k) {
                const Nibbles512 n = nibbles512(codes[k]);
                codes[k] += 16;
                acc[k] = _mm512_fmadd_ps(_mm512_permutexvar_ps(n.first, lut[k]), x0, acc[k]);
                acc[k] = _mm512_fmadd_ps(_mm512_permutexvar_ps(n.second, lut[k]), x1, acc[k]);
            }
        }
    }
    for (int k = 0; k < kRowsAvx512; ++k) out[k] = reduce512(acc[k]) + 0.0f;
}

FM_AVX512 void dequantize_row_avx512(const Q4Data& q, int64_t r, int64_t cols, float* out) {
    const __m512 book = _mm512_loadu_ps(q.codebook);
    const int64_t block = q.block, nb = cols / block;
    for (int64_t b = 0; b < nb; ++b) {
        const __m512 lut = _mm512_mul_ps(book, _mm512_set1_ps(q.scales[r * nb + b]));
        for (int64_t g = 0; g < block; g += 32) {
            const Nibbles512 n = nibbles512(q.codes + (r * cols + b * block + g) / 2);
            _mm512_storeu_ps(out + b * block + g, _mm512_permutexvar_ps(n.first, lut));
            _mm512_storeu_ps(out + b * block + g + 16, _mm512_permutexvar_ps(n.second, lut));
        }
    }
}

// The binary search of the quantizer: the code whose midpoint interval holds v, in four
// compares, each threshold fetched with one vpermps from an 8-entry table indexed by the
// half-code found so far.
struct QuantTablesAvx2 {
    __m256 lo, hi, ta, tb, tc, mid7;
};

FM_AVX2 QuantTablesAvx2 make_tables_avx2(const QuantTables& t) {
    QuantTablesAvx2 v;
    v.lo = _mm256_loadu_ps(t.cb);
    v.hi = _mm256_loadu_ps(t.cb + 8);
    float ta[8], tb[8], tc[8];
    for (int h = 0; h < 8; ++h) {
        ta[h] = t.mid[std::min(2 * h + 3, 14)];
        tb[h] = t.mid[std::min(2 * h + 1, 14)];
        tc[h] = t.mid[2 * h];
    }
    v.ta = _mm256_loadu_ps(ta);
    v.tb = _mm256_loadu_ps(tb);
    v.tc = _mm256_loadu_ps(tc);
    v.mid7 = _mm256_set1_ps(t.mid[7]);
    return v;
}

FM_AVX2 inline __m256i nearest_code(const QuantTablesAvx2& t, __m256 v) {
    const __m256i one = _mm256_set1_epi32(1), two = _mm256_set1_epi32(2), four = _mm256_set1_epi32(4);
    __m256i h = _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(v, t.mid7, _CMP_GT_OQ)), four);
    __m256 m = _mm256_cmp_ps(v, _mm256_permutevar8x32_ps(t.ta, h), _CMP_GT_OQ);
    h = _mm256_or_si256(h, _mm256_and_si256(_mm256_castps_si256(m), two));
    m = _mm256_cmp_ps(v, _mm256_permutevar8x32_ps(t.tb, h), _CMP_GT_OQ);
    h = _mm256_or_si256(h, _mm256_and_si256(_mm256_castps_si256(m), one));
    m = _mm256_cmp_ps(v, _mm256_permutevar8x32_ps(t.tc, h), _CMP_GT_OQ);
    return _mm256_sub_epi32(_mm256_add_epi32(h, h), _mm256_castps_si256(m));
}

FM_AVX2 inline __m256 lookup_codes(const QuantTablesAvx2& t, __m256i code) {
    const __m256 a = _mm256_permutevar8x32_ps(t.lo, code);
    const __m256 b = _mm256_permutevar8x32_ps(t.hi, code);
    return _mm256_blendv_ps(a, b, _mm256_castsi256_ps(_mm256_slli_epi32(code, 28)));
}

// Packs 8 codes (one per int32 lane, element order) into 4 bytes, element 2k in the high nibble.
FM_AVX2 inline uint32_t pack_codes(__m256i c) {
    // In each 64-bit lane: low dword = c[2k] << 4 | c[2k+1] (the high dword is ignored).
    const __m256i z = _mm256_or_si256(_mm256_slli_epi32(c, 4), _mm256_srli_epi64(c, 32));
    const __m256i b =
        _mm256_shuffle_epi8(z, _mm256_setr_epi8(0, 8, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 8, -1,
                                                -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
    const uint32_t lo = static_cast<uint32_t>(_mm256_extract_epi16(b, 0)) & 0xffff;
    const uint32_t hi = static_cast<uint32_t>(_mm256_extract_epi16(b, 8)) & 0xffff;
    return lo | (hi << 16);
}

constexpr int kMaxBlockAvx2 = 256;

// A whole block whose length is a multiple of 8 (at most kMaxBlockAvx2); the algorithm of
// quantize_block_scalar, with the four candidate scales evaluated in one sweep (independent
// chains, no branch between candidates), then the least-squares refit.
FM_AVX2 bool quantize_block_avx2(const QuantTables& ts, const QuantTablesAvx2& t, const float* w, int len,
                                 uint8_t* codes, float* scale) {
    const __m256 inf = _mm256_set1_ps(std::numeric_limits<float>::infinity());
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 hi = _mm256_set1_ps(-std::numeric_limits<float>::infinity()), lo = inf, bad = _mm256_setzero_ps();
    for (int i = 0; i < len; i += 8) {
        const __m256 x = _mm256_loadu_ps(w + i);
        bad = _mm256_or_ps(bad, _mm256_cmp_ps(_mm256_and_ps(x, abs_mask), inf, _CMP_NLT_UQ));
        hi = _mm256_max_ps(hi, x);
        lo = _mm256_min_ps(lo, x);
    }
    const bool finite = _mm256_movemask_ps(bad) == 0;
    float h[8], l[8];
    _mm256_storeu_ps(h, hi);
    _mm256_storeu_ps(l, lo);
    float hmax = h[0], lmin = l[0];
    for (int k = 1; k < 8; ++k) {
        hmax = std::max(hmax, h[k]);
        lmin = std::min(lmin, l[k]);
    }
    const float mx = hmax >= -lmin ? hmax : lmin;
    if (!finite || mx == 0.0f) {
        *scale = 0.0f;
        const uint8_t z = static_cast<uint8_t>(ts.zero_code * 17);
        std::fill(codes, codes + len / 2, z);
        return finite;
    }

    alignas(32) int32_t cand[5][kMaxBlockAvx2];
    const float sc[4] = {mx, -mx, 0.9f * mx, -0.9f * mx};
    float err[4];
    // Two candidates per sweep: few enough live registers that the error accumulators are not
    // spilled (a spilled accumulator turns the loop into a store-to-load latency chain).
    for (int c = 0; c < 4; c += 2) {
        const __m256 sa = _mm256_set1_ps(sc[c]), sb = _mm256_set1_ps(sc[c + 1]);
        const __m256 ia = _mm256_set1_ps(1.0f / sc[c]), ib = _mm256_set1_ps(1.0f / sc[c + 1]);
        __m256 ea = _mm256_setzero_ps(), eb = ea;
        for (int i = 0; i < len; i += 8) {
            const __m256 x = _mm256_loadu_ps(w + i);
            const __m256i ca = nearest_code(t, _mm256_mul_ps(x, ia));
            const __m256i cb = nearest_code(t, _mm256_mul_ps(x, ib));
            _mm256_store_si256(reinterpret_cast<__m256i*>(cand[c] + i), ca);
            _mm256_store_si256(reinterpret_cast<__m256i*>(cand[c + 1] + i), cb);
            const __m256 da = _mm256_fnmadd_ps(lookup_codes(t, ca), sa, x);
            const __m256 db = _mm256_fnmadd_ps(lookup_codes(t, cb), sb, x);
            ea = _mm256_fmadd_ps(da, da, ea);
            eb = _mm256_fmadd_ps(db, db, eb);
        }
        err[c] = simd::hsum8(ea);
        err[c + 1] = simd::hsum8(eb);
    }
    int best = 0;
    for (int c = 1; c < 4; ++c)
        if (err[c] < err[best]) best = c;
    float best_s = sc[best], best_e = err[best];

    // Least-squares refit for the winner's codes: s = Σ w·q / Σ q·q, then its own codes.
    __m256 a = _mm256_setzero_ps(), b = a;
    for (int i = 0; i < len; i += 8) {
        const __m256 x = _mm256_loadu_ps(w + i);
        const __m256 q = lookup_codes(t, _mm256_load_si256(reinterpret_cast<const __m256i*>(cand[best] + i)));
        a = _mm256_fmadd_ps(x, q, a);
        b = _mm256_fmadd_ps(q, q, b);
    }
    const float qq = simd::hsum8(b);
    const float s = qq > 0.0f ? simd::hsum8(a) / qq : 0.0f;
    if (s != 0.0f && std::isfinite(s)) {
        const __m256 sv = _mm256_set1_ps(s), inv = _mm256_set1_ps(1.0f / s);
        __m256 e = _mm256_setzero_ps();
        for (int i = 0; i < len; i += 8) {
            const __m256 x = _mm256_loadu_ps(w + i);
            const __m256i c = nearest_code(t, _mm256_mul_ps(x, inv));
            _mm256_store_si256(reinterpret_cast<__m256i*>(cand[4] + i), c);
            const __m256 d = _mm256_fnmadd_ps(lookup_codes(t, c), sv, x);
            e = _mm256_fmadd_ps(d, d, e);
        }
        const float e4 = simd::hsum8(e);
        if (e4 < best_e) {
            best_e = e4;
            best_s = s;
            best = 4;
        }
    }
    *scale = best_s;
    for (int i = 0; i < len; i += 8) {
        const uint32_t packed = pack_codes(_mm256_load_si256(reinterpret_cast<const __m256i*>(cand[best] + i)));
        std::memcpy(codes + i / 2, &packed, 4);
    }
    return finite;
}

FM_AVX2 int64_t quantize_avx2(const float* w, int64_t n, int32_t block, const QuantTables& ts, uint8_t* codes,
                              float* scales) {
    const QuantTablesAvx2 t = make_tables_avx2(ts);
    int64_t first_bad = -1;
    for (int64_t b = 0; b * block < n; ++b) {
        const int64_t start = b * block;
        const int len = static_cast<int>(std::min<int64_t>(block, n - start));
        const bool ok = len % 8 == 0 && len <= kMaxBlockAvx2
                            ? quantize_block_avx2(ts, t, w + start, len, codes + start / 2, scales + b)
                            : quantize_block_scalar(ts, w + start, len, codes + start / 2, scales + b);
        if (!ok && first_bad < 0)
            for (int i = 0; i < len && first_bad < 0; ++i)
                if (!std::isfinite(w[start + i])) first_bad = start + i;
    }
    return first_bad;
}

#endif  // FM_Q4_X86

bool use_avx2(Q4Isa isa) {
    return detail::wide(isa);
}

}  // namespace

bool q4_avx2_available() {
    return detail::avx2_available();
}

const char* q4_isa_name(Q4Isa isa) {
    return detail::isa_name(isa);
}

void dequantize_q4_row(const MatrixView& W, int64_t r, float* out) {
    dequantize_span(W.q4, r * W.cols, W.cols, out);
}

namespace detail {

void q4_dequantize_rows(const MatrixView& W, int64_t r0, int64_t rows, float* out, Q4Isa isa) {
    const int64_t cols = W.cols;
#if FM_Q4_X86
    if (detail::resolve(isa) == Q4Isa::Avx512 && avx512_layout(W)) {
        for (int64_t i = 0; i < rows; ++i) dequantize_row_avx512(W.q4, r0 + i, cols, out + i * cols);
        return;
    }
    if (use_avx2(isa) && fast_layout(W)) {
        for (int64_t i = 0; i < rows; ++i) dequantize_row_avx2(W.q4, r0 + i, cols, out + i * cols);
        return;
    }
#endif
    (void)isa;
    dequantize_span(W.q4, r0 * cols, rows * cols, out);
}

void q4_gemv_rows(const MatrixView& W, int64_t r0, int64_t r1, const float* x, float* y, bool accumulate, Q4Isa isa) {
    const int64_t cols = W.cols;
    auto put = [&](int64_t r, float v) { y[r] = accumulate ? y[r] + v : v; };
#if FM_Q4_X86
    if (use_avx2(isa) && fast_layout(W)) {
        int64_t r = r0;
        if (detail::resolve(isa) == Q4Isa::Avx512 && avx512_layout(W)) {
            float four[kRowsAvx512];
            for (; r + kRowsAvx512 <= r1; r += kRowsAvx512) {
                rows_dot_avx512(W.q4, r, cols, x, four);
                for (int k = 0; k < kRowsAvx512; ++k) put(r + k, four[k]);
            }
        }
        float two[2];
        for (; r + 2 <= r1; r += 2) {
            row_dot_fused2(W.q4, r, cols, x, two);
            put(r, two[0]);
            put(r + 1, two[1]);
        }
        for (; r < r1; ++r) put(r, row_dot_fused(W.q4, r, cols, x));
        return;
    }
#endif
    thread_local std::vector<float> row;
    row.resize(static_cast<size_t>(cols));
    for (int64_t r = r0; r < r1; ++r) {
        q4_dequantize_rows(W, r, 1, row.data(), isa);
        put(r, dot_f32(row.data(), x, cols, isa));
    }
}

}  // namespace detail

int64_t quantize_q4_blocks(const float* w, int64_t n, int32_t block, const float* codebook, uint8_t* codes,
                           float* scales, Q4Isa isa) {
    if (n <= 0 || block <= 0 || block > kMaxBlock) return -1;
    const QuantTables t = make_tables(codebook);
#if FM_Q4_X86
    if (use_avx2(isa)) return quantize_avx2(w, n, block, t, codes, scales);
#endif
    (void)isa;
    int64_t first_bad = -1;
    for (int64_t b = 0; b * block < n; ++b) {
        const int64_t start = b * block;
        const int len = static_cast<int>(std::min<int64_t>(block, n - start));
        if (!quantize_block_scalar(t, w + start, len, codes + start / 2, scales + b) && first_bad < 0)
            for (int i = 0; i < len && first_bad < 0; ++i)
                if (!std::isfinite(w[start + i])) first_bad = start + i;
    }
    return first_bad;
}

}  // namespace fm::cpu
