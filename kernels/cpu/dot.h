#pragma once
// The row kernels under every CPU matrix op: dot products, matrix-vector products over a range
// of rows (decode) and a small matrix-matrix product over an fp32 tile of rows (prefill), each
// in two twins: AVX2 + FMA, and a plain scalar one. Which twin runs is chosen at run time
// (cpuid); tests pick one explicitly and compare them (tests/engine/test_cpu_ops.cpp).
//
// One summation order for every output, whatever the twin, dtype, token count or thread split
// (so decode and prefill, 1 or N threads, give bit-identical results):
//   two 8-lane accumulators a, b; for each full 16-element chunk j: a[k] = fma(w[j+k], x[j+k],
//   a[k]), b[k] = fma(w[j+8+k], x[j+8+k], b[k]); then, if 8 elements remain, they go into a;
//   the last < 8 elements go into a scalar `tail` by fma, in order; the result is
//   v = a + b (lane-wise), s[k] = v[k] + v[k+4], ((s[0] + s[2]) + (s[1] + s[3])) + tail.

#include <cstdint>

namespace fm::cpu::detail {

// Which twin runs. Avx512 is a third twin for the kernels where 16 lanes pay (the prefill tile,
// 4-bit decode): it keeps the same order (one 16-lane register holds the two 8-lane
// accumulators side by side) and so the same bits; elsewhere it runs the AVX2 twin.
enum class Isa { Auto, Portable, Avx2, Avx512 };

// True when this CPU (and this build) can run the AVX2 + FMA twins / the AVX-512F ones.
bool avx2_available();
bool avx512_available();
// The twin that `isa` resolves to on this CPU: the one asked for, or the best one below it that
// the CPU has (Auto: the best there is); never Auto.
Isa resolve(Isa isa);
// resolve(isa) is Avx2 or Avx512: the AVX2 code may run.
bool wide(Isa isa);
const char* isa_name(Isa isa);

// The dot product of a[0..n) and b[0..n) in the order above.
float dot_f32(const float* a, const float* b, int64_t n, Isa isa = Isa::Auto);

// y[r] = dot(W row r, x) (or y[r] += it) for r in [0, rows); row r starts at w + r * ld.
void gemv_f32(const float* w, int64_t ld, int64_t rows, int64_t cols, const float* x, float* y, bool accumulate,
              Isa isa = Isa::Auto);
void gemv_bf16(const uint16_t* w, int64_t ld, int64_t rows, int64_t cols, const float* x, float* y, bool accumulate,
               Isa isa = Isa::Auto);

// Y[t * ldy + r] = dot(tile row r, X row t) (or +=) for r < rows, t < T, where the tile is fp32,
// row-major with row stride ldw (weights converted once, reused for all T tokens).
void gemm_tile(const float* w, int64_t ldw, int64_t rows, int64_t cols, const float* X, int64_t T, int64_t ldx,
               float* Y, int64_t ldy, bool accumulate, Isa isa = Isa::Auto);

// out[i] = bf16 w[i] widened to fp32 (exact).
void bf16_to_f32(const uint16_t* w, float* out, int64_t n, Isa isa = Isa::Auto);

}  // namespace fm::cpu::detail
