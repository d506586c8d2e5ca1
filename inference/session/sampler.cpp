#include "inference/session/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

// The chain, in llama.cpp's order: repetition penalty, then (temperature > 0) top-k, softmax
// with temperature, top-p, min-p, renormalize, draw; or (temperature <= 0) argmax of the
// penalized logits. Every choice is deterministic: candidates sort by logit and then by id,
// and the draw maps the generator's 64-bit output to [0, 1) itself, so a seed gives the same
// tokens with any standard library.

namespace fm {
namespace {

struct Candidate {
    int32_t id;
    float logit;
};

bool better(const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

// NaN never wins; +inf becomes the largest finite value so softmax stays finite.
void sanitize(std::vector<float>& logits) {
    for (float& x : logits) {
        if (std::isnan(x))
            x = -std::numeric_limits<float>::infinity();
        else if (x == std::numeric_limits<float>::infinity())
            x = std::numeric_limits<float>::max();
    }
}

// CTRL-style: each distinct token of the window once; positive logits divided, others multiplied.
void apply_repeat_penalty(std::vector<float>& logits, std::span<const int32_t> history, const SamplingParams& p) {
    if (p.repeat_penalty == 1.0f || !(p.repeat_penalty > 0.0f) || !std::isfinite(p.repeat_penalty) ||
        p.repeat_window <= 0)
        return;
    const size_t window = std::min(history.size(), static_cast<size_t>(p.repeat_window));
    std::vector<bool> seen(logits.size(), false);
    for (int32_t id : history.subspan(history.size() - window)) {
        if (id < 0 || static_cast<size_t>(id) >= logits.size() || seen[static_cast<size_t>(id)]) continue;
        seen[static_cast<size_t>(id)] = true;
        float& x = logits[static_cast<size_t>(id)];
        x = x > 0.0f ? x / p.repeat_penalty : x * p.repeat_penalty;
    }
}

// Uniform in [0, 1) from the top 53 bits: the same on every platform.
double uniform01(std::mt19937_64& rng) {
    return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

}  // namespace

int32_t argmax(std::span<const float> logits) {
    if (logits.empty()) return -1;
    size_t best = 0;
    for (size_t i = 1; i < logits.size(); ++i)
        if (logits[i] > logits[best] || (std::isnan(logits[best]) && !std::isnan(logits[i]))) best = i;
    return static_cast<int32_t>(best);
}

Sampler::Sampler(SamplingParams params) : params_(params), rng_(params.seed) {}

void Sampler::reseed(uint64_t seed) {
    params_.seed = seed;
    rng_.seed(seed);
}

// Empty logits give -1 (no token), which the caller's bounds checks reject.
int32_t Sampler::sample(std::vector<float> logits, std::span<const int32_t> history) {
    if (logits.empty()) return -1;
    sanitize(logits);
    apply_repeat_penalty(logits, history, params_);
    const float temperature = params_.temperature;
    if (!(temperature > 0.0f) || !std::isfinite(temperature)) return argmax(logits);

    const size_t n = logits.size();
    std::vector<Candidate> cands(n);
    for (size_t i = 0; i < n; ++i) cands[i] = {static_cast<int32_t>(i), logits[i]};

    // top-k
    if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < n) {
        const auto k = static_cast<size_t>(params_.top_k);
        std::nth_element(cands.begin(), cands.begin() + static_cast<std::ptrdiff_t>(k), cands.end(), better);
        cands.resize(k);
    }

    // softmax with temperature over what top-k kept
    float max_logit = -std::numeric_limits<float>::infinity();
    for (const auto& c : cands) max_logit = std::max(max_logit, c.logit);
    if (max_logit == -std::numeric_limits<float>::infinity()) return argmax(logits);  // nothing possible
    const double inv_t = 1.0 / static_cast<double>(temperature);
    auto weight = [&](const Candidate& c) {
        return std::exp((static_cast<double>(c.logit) - static_cast<double>(max_logit)) * inv_t);
    };
    double z = 0.0;
    for (const auto& c : cands) z += weight(c);

    // top-p and min-p keep a prefix of the sorted candidates; sort only as far as needed.
    const bool top_p_on = params_.top_p < 1.0f;
    const bool min_p_on = params_.min_p > 0.0f;
    const double top_p = std::max(0.0, static_cast<double>(params_.top_p));
    const double min_p = static_cast<double>(params_.min_p);
    size_t sorted = std::min<size_t>(cands.size(), top_p_on || min_p_on ? 64 : cands.size());
    std::partial_sort(cands.begin(), cands.begin() + static_cast<std::ptrdiff_t>(sorted), cands.end(), better);
    const double p_max = weight(cands[0]) / z;
    size_t keep = 0;
    double cumulative = 0.0;
    for (size_t i = 0; i < cands.size(); ++i) {
        if (i == sorted) {
            sorted = std::min(cands.size(), sorted * 8);
            std::partial_sort(cands.begin() + static_cast<std::ptrdiff_t>(i),
                              cands.begin() + static_cast<std::ptrdiff_t>(sorted), cands.end(), better);
        }
        const double p = weight(cands[i]) / z;
        if (min_p_on && p < min_p * p_max) break;
        keep = i + 1;
        cumulative += p;
        if (top_p_on && cumulative >= top_p) break;
    }
    keep = std::max<size_t>(keep, 1);

    // renormalize over the kept tokens and draw
    double total = 0.0;
    for (size_t i = 0; i < keep; ++i) total += weight(cands[i]);
    const double target = uniform01(rng_) * total;
    double acc = 0.0;
    for (size_t i = 0; i < keep; ++i) {
        acc += weight(cands[i]);
        if (target < acc) return cands[i].id;
    }
    return cands[keep - 1].id;
}

}  // namespace fm
