#pragma once
// Choosing the next token from logits: greedy, temperature, top-k, top-p, min-p, and a
// repetition penalty over a window of recent tokens, with a seeded generator so runs repeat.

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace fm {

struct SamplingParams {
    float temperature = 0.7f;     // <= 0: greedy (argmax, lowest id on ties)
    int32_t top_k = 40;           // <= 0: off
    float top_p = 0.95f;          // >= 1: off
    float min_p = 0.05f;          // <= 0: off
    float repeat_penalty = 1.1f;  // 1: off. CTRL-style: positive logits divided, negative multiplied
    int32_t repeat_window = 64;   // how many recent tokens the penalty looks at
    uint64_t seed = 0;
};

class Sampler {
public:
    explicit Sampler(SamplingParams params);
    // history: the tokens generated or seen so far (the window's tail is used by the penalty).
    // logits is taken by value: the sampler may modify its copy.
    int32_t sample(std::vector<float> logits, std::span<const int32_t> history);
    void reseed(uint64_t seed);
    const SamplingParams& params() const { return params_; }

private:
    SamplingParams params_;
    std::mt19937_64 rng_;
};

int32_t argmax(std::span<const float> logits);

}  // namespace fm
