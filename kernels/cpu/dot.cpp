// Design: plain loops over eight independent accumulators, which GCC vectorizes into one 8-lane
// register without -ffast-math; the eight lanes are reduced in a fixed tree and the scalar tail
// is added last, so a row's result is the same whatever the thread count or chunk size.

#include "kernels/cpu/dot.h"

#include <cstring>

#include "kernels/common/numerics.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define FM_MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define FM_MULTIVERSION
#endif

namespace fm::cpu::detail {

FM_MULTIVERSION float dot_f32(const float* a, const float* b, int64_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
    float tail = 0.0f;
    for (; i < n; ++i) tail += a[i] * b[i];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}

FM_MULTIVERSION float dot_bf16(const uint16_t* w, const float* x, int64_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) {
            uint32_t bits = static_cast<uint32_t>(w[i + j]) << 16;
            float f;
            std::memcpy(&f, &bits, 4);
            acc[j] += f * x[i + j];
        }
    float tail = 0.0f;
    for (; i < n; ++i) tail += num::bf16_to_float(w[i]) * x[i];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}

FM_MULTIVERSION void bf16_to_f32_row(const uint16_t* w, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        uint32_t bits = static_cast<uint32_t>(w[i]) << 16;
        std::memcpy(&out[i], &bits, 4);
    }
}

}  // namespace fm::cpu::detail
