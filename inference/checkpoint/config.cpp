#include "inference/checkpoint/config.h"

#include <fstream>

#include <sstream>
#include "inference/core/guarded.h"

#include <nlohmann/json.hpp>

#include "inference/core/json_reader.h"

namespace fm {
namespace {

using json = nlohmann::json;

// Reads a required positive integer field; the message names the field and the file.
Status read_size(const json& j, const char* key, const std::string& where, int64_t& out) {
    auto it = j.find(key);
    if (it == j.end()) return Error{where + ": missing required field '" + key + "'"};
    if (!it->is_number_integer()) return Error{where + ": field '" + key + "' must be an integer"};
    int64_t v = it->get<int64_t>();
    if (v <= 0) return Error{where + ": field '" + key + "' must be positive, got " + std::to_string(v)};
    out = v;
    return {};
}

Status read_float(const json& j, const char* key, const std::string& where, float& out) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return {};  // keep the default
    if (!it->is_number()) return Error{where + ": field '" + key + "' must be a number"};
    double v = it->get<double>();
    if (!(v > 0.0) || v > 1.0)
        return Error{where + ": field '" + key + "' must be in (0, 1], got " + std::to_string(v)};
    out = static_cast<float>(v);
    return {};
}

bool read_bool(const json& j, const char* key, bool fallback) {
    auto it = j.find(key);
    return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

int64_t read_id(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : -1;
}

}  // namespace

int64_t ModelConfig::parameter_count() const {
    const int64_t H = hidden_size, I = intermediate_size, N = state_size, R = time_step_rank, K = conv_kernel;
    int64_t per_layer = H                  // norm
                        + 2 * I * H        // in_proj
                        + I * K + I        // conv1d weight + bias
                        + (R + 2 * N) * I  // x_proj
                        + I * R + I        // dt_proj weight + bias
                        + I * N + I        // A_log, D
                        + H * I;           // out_proj
    int64_t total = vocab_size * H + num_layers * per_layer + H;
    if (!tie_word_embeddings) total += vocab_size * H;
    return total;
}

Result<ModelConfig> ModelConfig::from_json(const json& j, const std::string& where) {
    if (!j.is_object()) return Error{where + ": expected a JSON object"};
    ModelConfig c;
    auto type = j.find("model_type");
    if (type == j.end() || !type->is_string())
        return Error{where + ": missing 'model_type' (expected \"falcon_mamba\" or \"mamba\")"};
    c.model_type = type->get<std::string>();
    if (c.model_type == "falcon_mamba") {
        c.architecture = Architecture::FalconMamba;
    } else if (c.model_type == "mamba") {
        c.architecture = Architecture::Mamba;
    } else {
        return Error{where + ": unsupported model_type \"" + c.model_type +
                     "\"; this app runs Falcon Mamba (\"falcon_mamba\") and Mamba-1 (\"mamba\") checkpoints"};
    }
    for (auto [key, field] :
         {std::pair{"hidden_size", &c.hidden_size}, std::pair{"intermediate_size", &c.intermediate_size},
          std::pair{"state_size", &c.state_size}, std::pair{"time_step_rank", &c.time_step_rank},
          std::pair{"conv_kernel", &c.conv_kernel}, std::pair{"num_hidden_layers", &c.num_layers},
          std::pair{"vocab_size", &c.vocab_size}}) {
        if (auto s = read_size(j, key, where, *field); !s) return Error{s.error()};
    }
    if (auto s = read_float(j, "layer_norm_epsilon", where, c.layer_norm_epsilon); !s) return Error{s.error()};
    if (auto s = read_float(j, "mixer_rms_eps", where, c.mixer_rms_eps); !s) return Error{s.error()};
    c.tie_word_embeddings = read_bool(j, "tie_word_embeddings", false);
    c.use_bias = read_bool(j, "use_bias", false);
    c.use_conv_bias = read_bool(j, "use_conv_bias", true);
    c.bos_token_id = read_id(j, "bos_token_id");
    c.pad_token_id = read_id(j, "pad_token_id");
    if (auto eos = j.find("eos_token_id"); eos != j.end()) {
        if (eos->is_number_integer())
            c.eos_token_ids.push_back(eos->get<int64_t>());
        else if (eos->is_array())
            for (const auto& e : *eos)
                if (e.is_number_integer()) c.eos_token_ids.push_back(e.get<int64_t>());
    }
    if (auto dt = j.find("torch_dtype"); dt != j.end() && dt->is_string()) c.torch_dtype = dt->get<std::string>();
    if (c.use_bias)
        return Error{where + ": use_bias=true (biases on in_proj/out_proj) is not supported; Falcon Mamba has none"};
    if (c.conv_kernel < 2) return Error{where + ": conv_kernel must be at least 2"};
    if (c.hidden_size > (1 << 20) || c.intermediate_size > (1 << 22) || c.state_size > 4096 || c.num_layers > 4096 ||
        c.vocab_size > (1 << 24) || c.time_step_rank > (1 << 20) || c.conv_kernel > 64)
        return Error{where + ": a size field is implausibly large"};

    if (auto q = j.find("quantization_config"); q != j.end() && !q->is_null()) {
        if (!q->is_object()) return Error{where + ": quantization_config must be an object, not " + json_kind(*q)};
        const std::string at = "quantization_config";
        auto method = json_string(*q, "quant_method", where, at);
        if (!method) return Error{method.error()};
        if (method->value_or("") != "bitsandbytes")
            return Error{where + ": unsupported quantization method \"" + method->value_or("") +
                         "\" (only bitsandbytes 4-bit)"};
        auto four_bit = json_bool(*q, "load_in_4bit", where, at);
        if (!four_bit) return Error{four_bit.error()};
        if (!four_bit->value_or(false))
            return Error{where + ": only bitsandbytes 4-bit checkpoints are supported (load_in_4bit is not true)"};
        auto quant_type = json_string(*q, "bnb_4bit_quant_type", where, at);
        if (!quant_type) return Error{quant_type.error()};
        auto double_quant = json_bool(*q, "bnb_4bit_use_double_quant", where, at);
        if (!double_quant) return Error{double_quant.error()};
        c.quantization.enabled = true;
        c.quantization.quant_type = quant_type->value_or("fp4");
        c.quantization.double_quant = double_quant->value_or(false);
        if (c.quantization.quant_type != "fp4" && c.quantization.quant_type != "nf4")
            return Error{where + ": unknown bnb_4bit_quant_type \"" + c.quantization.quant_type + "\""};
    }
    return c;
}

Result<ModelConfig> ModelConfig::from_json_text(const std::string& text, const std::string& where) {
    auto j = parse_json(text, where);
    if (!j) return Error{j.error()};
    return from_json(*j, where);
}

Result<ModelConfig> ModelConfig::load(const std::filesystem::path& dir) {
    return guarded<Result<ModelConfig>>((dir / "config.json").string(), [&]() -> Result<ModelConfig> {
        auto path = dir / "config.json";
        std::ifstream in(path, std::ios::binary);
        if (!in) return Error{path.string() + ": cannot open (is this a checkpoint folder?)"};
        std::stringstream buffer;
        buffer << in.rdbuf();
        return from_json_text(buffer.str(), path.string());
    });
}

json ModelConfig::to_json() const {
    json j;
    j["model_type"] = model_type;
    j["hidden_size"] = hidden_size;
    j["intermediate_size"] = intermediate_size;
    j["state_size"] = state_size;
    j["time_step_rank"] = time_step_rank;
    j["conv_kernel"] = conv_kernel;
    j["num_hidden_layers"] = num_layers;
    j["vocab_size"] = vocab_size;
    j["layer_norm_epsilon"] = layer_norm_epsilon;
    j["mixer_rms_eps"] = mixer_rms_eps;
    j["tie_word_embeddings"] = tie_word_embeddings;
    j["use_conv_bias"] = use_conv_bias;
    j["bos_token_id"] = bos_token_id;
    j["eos_token_id"] = eos_token_ids;
    j["torch_dtype"] = torch_dtype;
    if (quantization.enabled)
        j["quantization"] = {{"method", "bitsandbytes"},
                             {"quant_type", quantization.quant_type},
                             {"double_quant", quantization.double_quant}};
    return j;
}

}  // namespace fm
