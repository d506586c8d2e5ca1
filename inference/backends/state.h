#pragma once
// The recurrent state of a whole model: all Falcon Mamba remembers of a sequence. Fixed size
// (about 38 MiB for 7B) whatever the sequence length. A plain value: copy, compare, serialize.

#include <cstdint>
#include <span>
#include <vector>

#include "inference/core/result.h"

namespace fm {

struct ModelConfig;

struct RecurrentState {
    int64_t layers = 0;        // L
    int64_t inner = 0;         // I
    int64_t conv_width = 0;    // K-1: pre-conv inputs kept per channel
    int64_t state_size = 0;    // N
    uint64_t tokens_seen = 0;  // tokens that went into this state since it was empty
    std::vector<float> conv;   // [L, I, K-1], per channel the oldest input first
    std::vector<float> ssm;    // [L, I, N]

    static RecurrentState zeros(const ModelConfig& config);

    float* conv_layer(int64_t l) { return conv.data() + l * inner * conv_width; }
    float* ssm_layer(int64_t l) { return ssm.data() + l * inner * state_size; }
    const float* conv_layer(int64_t l) const { return conv.data() + l * inner * conv_width; }
    const float* ssm_layer(int64_t l) const { return ssm.data() + l * inner * state_size; }

    int64_t bytes() const { return static_cast<int64_t>((conv.size() + ssm.size()) * sizeof(float)); }
    bool matches(const ModelConfig& config) const;
    void clear();

    bool operator==(const RecurrentState&) const = default;

    // Little-endian binary: magic "FMST", version, the four dimensions, tokens_seen, the floats,
    // and a CRC-32 of everything before it. deserialize checks all of it.
    std::vector<uint8_t> serialize() const;
    static Result<RecurrentState> deserialize(std::span<const uint8_t> bytes);
};

uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc = 0);

}  // namespace fm
