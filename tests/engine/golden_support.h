#pragma once
// golden.json (an independent float64 Hugging Face forward pass) and the two checks every
// backend and weight format runs against it: the logits' largest difference and the greedy
// continuation. Header-only; tests include it.

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "inference/backends/backend.h"

namespace fm::testing {

inline const nlohmann::json& golden() {
    static const nlohmann::json j = [] {
        std::ifstream in(std::string(FM_TEST_DATA_DIR) + "/checkpoints/golden.json");
        return nlohmann::json::parse(in);
    }();
    return j;
}

inline std::vector<int32_t> ids_of(const nlohmann::json& a) {
    return a.get<std::vector<int32_t>>();
}

// First index of the largest value, as torch.argmax picks it.
inline int32_t first_argmax(const float* v, size_t n) {
    return static_cast<int32_t>(std::max_element(v, v + n) - v);
}

// Largest |logits - expected| over rows of `vocab` floats; infinity when the shapes differ.
inline double max_abs_diff_to_golden(const std::vector<float>& logits, const nlohmann::json& expected, size_t vocab) {
    if (logits.size() != expected.size() * vocab) return std::numeric_limits<double>::infinity();
    double worst = 0;
    for (size_t t = 0; t < expected.size(); ++t) {
        if (expected[t].size() != vocab) return std::numeric_limits<double>::infinity();
        for (size_t v = 0; v < vocab; ++v)
            worst = std::max(worst, std::abs(double(logits[t * vocab + v]) - expected[t][v].get<double>()));
    }
    return worst;
}

// Prefills `prompt`, then picks the argmax `count` times, feeding each pick back.
inline Result<std::vector<int32_t>> greedy_continuation(Backend& backend, const std::vector<int32_t>& prompt,
                                                        size_t count) {
    std::vector<float> logits;
    if (auto r = backend.forward(prompt, LogitsMode::Last, logits); !r) return Error{r.error()};
    std::vector<int32_t> generated;
    while (generated.size() < count) {
        const int32_t next = first_argmax(logits.data(), logits.size());
        generated.push_back(next);
        if (auto r = backend.forward(std::span<const int32_t>(&next, 1), LogitsMode::Last, logits); !r)
            return Error{r.error()};
    }
    return generated;
}

}  // namespace fm::testing
