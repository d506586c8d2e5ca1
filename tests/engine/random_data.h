#pragma once
// Reproducible random test data for the kernel tests.

#include <cstdint>
#include <random>
#include <vector>

namespace fm::testing {

inline std::vector<float> random_vector(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

}  // namespace fm::testing
