#pragma once
// Dot products and row conversion shared by the CPU matrix ops (kernels/cpu/gemv.cpp,
// kernels/cpu/matmul.cpp, kernels/cpu/elementwise.cpp). Each is compiled twice, for x86-64-v3
// (AVX2 + FMA) and the baseline, and the loader picks one at run time (GCC target_clones), so
// one binary is fast on new CPUs and still runs on old ones. The summation order is fixed
// (eight independent accumulators, then a fixed tree), so results never depend on how rows are
// split among threads.

#include <cstdint>

namespace fm::cpu::detail {

float dot_f32(const float* a, const float* b, int64_t n);
float dot_bf16(const uint16_t* w, const float* x, int64_t n);
void bf16_to_f32_row(const uint16_t* w, float* out, int64_t n);

}  // namespace fm::cpu::detail
