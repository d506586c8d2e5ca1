#pragma once
// The model configuration read from a checkpoint's config.json (docs/model.md, Shapes).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "inference/core/result.h"

namespace fm {

enum class Architecture { FalconMamba, Mamba };

struct BnbQuantConfig {
    bool enabled = false;
    std::string quant_type;  // "fp4" or "nf4"
    bool double_quant = false;
};

struct ModelConfig {
    Architecture architecture = Architecture::FalconMamba;
    std::string model_type;         // as written in the file
    int64_t hidden_size = 0;        // H
    int64_t intermediate_size = 0;  // I (read directly; `expand` is ignored)
    int64_t state_size = 0;         // N
    int64_t time_step_rank = 0;     // R
    int64_t conv_kernel = 0;        // K
    int64_t num_layers = 0;         // L
    int64_t vocab_size = 0;         // V
    float layer_norm_epsilon = 1e-5f;
    float mixer_rms_eps = 1e-6f;
    bool tie_word_embeddings = false;
    bool use_bias = false;
    bool use_conv_bias = true;
    int64_t bos_token_id = -1;
    std::vector<int64_t> eos_token_ids;
    int64_t pad_token_id = -1;
    std::string torch_dtype;
    BnbQuantConfig quantization;

    // Falcon Mamba applies the weightless RMS norms to B, C and dt; plain Mamba does not.
    bool uses_bcdt_norms() const { return architecture == Architecture::FalconMamba; }

    int64_t parameter_count() const;
    // fp32 recurrent state: conv [L, I, K-1] + ssm [L, I, N].
    int64_t state_bytes() const { return num_layers * intermediate_size * (conv_kernel - 1 + state_size) * 4; }

    static Result<ModelConfig> from_json(const nlohmann::json& j, const std::string& where);
    static Result<ModelConfig> from_json_text(const std::string& text, const std::string& where);
    static Result<ModelConfig> load(const std::filesystem::path& checkpoint_dir);

    nlohmann::json to_json() const;
};

}  // namespace fm
