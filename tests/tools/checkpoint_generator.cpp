#include "tests/tools/checkpoint_generator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "inference/checkpoint/quant4.h"
#include "inference/checkpoint/safetensors_writer.h"
#include "kernels/common/numerics.h"

namespace fm::testing {
namespace {

// A counter-based generator (splitmix64 of seed ^ index): any element can be produced
// independently, so tensors are filled chunk by chunk with identical results.
float uniform(uint64_t seed, uint64_t index) {
    uint64_t z = seed + 0x9e3779b97f4a7c15ull * (index + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return static_cast<float>(z >> 40) / static_cast<float>(1ull << 24);  // [0, 1)
}

using ValueFn = std::function<float(uint64_t index)>;

TensorToWrite tensor(const std::string& name, DType dtype, std::vector<int64_t> shape, ValueFn value) {
    TensorToWrite t{name, dtype, std::move(shape), nullptr};
    const int bytes = static_cast<int>(dtype_size_bits(dtype) / 8);
    t.fill = [value, dtype, bytes](uint8_t* dst, uint64_t offset, uint64_t size) {
        for (uint64_t b = 0; b < size; b += static_cast<uint64_t>(bytes)) {
            const float v = value((offset + b) / static_cast<uint64_t>(bytes));
            if (dtype == DType::F32)
                std::memcpy(dst + b, &v, 4);
            else {
                uint16_t h = dtype == DType::BF16 ? num::float_to_bf16(v) : num::float_to_f16(v);
                std::memcpy(dst + b, &h, 2);
            }
        }
    };
    return t;
}

constexpr int64_t kBnbBlock = 64;

// One matrix as bitsandbytes writes it: absmax scaling per block, the nearest code.
void add_bnb_matrix(std::vector<TensorToWrite>& all, const std::string& name, int64_t rows, int64_t cols,
                    const ValueFn& value, const std::string& type) {
    const float* book = type == "nf4" ? kNf4Codebook : kFp4Codebook;
    const int64_t n = rows * cols, blocks = (n + kBnbBlock - 1) / kBnbBlock;
    auto weight = [value](int64_t i) {
        return num::bf16_to_float(num::float_to_bf16(value(static_cast<uint64_t>(i))));
    };
    auto absmax = [weight, n](int64_t b) {
        float m = 0.0f;
        for (int64_t i = b * kBnbBlock; i < std::min(n, (b + 1) * kBnbBlock); ++i) m = std::max(m, std::abs(weight(i)));
        return m;
    };
    auto code = [book, weight](int64_t i, float scale) {
        const float u = scale > 0.0f ? weight(i) / scale : 0.0f;
        int best = 0;
        for (int k = 1; k < 16; ++k)
            if (std::abs(u - book[k]) < std::abs(u - book[best])) best = k;
        return static_cast<uint8_t>(best);
    };
    TensorToWrite codes{name, DType::U8, {(n + 1) / 2, 1}, nullptr};
    codes.fill = [=](uint8_t* dst, uint64_t offset, uint64_t size) {
        int64_t block = -1;
        float scale = 0.0f;
        for (uint64_t b = 0; b < size; ++b) {
            const int64_t i = 2 * static_cast<int64_t>(offset + b);
            if (i / kBnbBlock != block) scale = absmax(block = i / kBnbBlock);
            const uint8_t hi = code(i, scale), lo = i + 1 < n ? code(i + 1, scale) : 0;
            dst[b] = static_cast<uint8_t>(hi << 4 | lo);
        }
    };
    all.push_back(std::move(codes));
    all.push_back(tensor(name + ".absmax", DType::F32, {blocks}, [absmax](uint64_t b) { return absmax(int64_t(b)); }));
    all.push_back(tensor(name + ".quant_map", DType::F32, {16}, [book](uint64_t k) { return book[k]; }));
    const std::string state = nlohmann::json{
        {"quant_type", type},
        {"blocksize", kBnbBlock},
        {"dtype", "bfloat16"},
        {"shape", {rows, cols}}}.dump();
    TensorToWrite qs{name + ".quant_state.bitsandbytes__" + type, DType::U8, {int64_t(state.size())}, nullptr};
    qs.fill = [state](uint8_t* dst, uint64_t offset, uint64_t size) { std::memcpy(dst, state.data() + offset, size); };
    all.push_back(std::move(qs));
}

std::string dtype_torch_name(DType t) {
    return t == DType::F32 ? "float32" : t == DType::F16 ? "float16" : "bfloat16";
}

}  // namespace

Status write_random_checkpoint(const std::filesystem::path& dir, const CheckpointSpec& s) {
    if (!s.bnb_quant_type.empty() && s.bnb_quant_type != "fp4" && s.bnb_quant_type != "nf4")
        return Error{"checkpoint generator: the bitsandbytes quant type must be fp4 or nf4"};
    if (s.hidden <= 0 || s.intermediate <= 0 || s.state <= 0 || s.dt_rank <= 0 || s.conv < 2 || s.layers <= 0 ||
        s.vocab <= 0 || s.shards <= 0)
        return Error{"checkpoint generator: every size must be positive (conv at least 2)"};
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Error{dir.string() + ": cannot create: " + ec.message()};

    std::vector<TensorToWrite> all;
    uint64_t salt = 0;
    auto scaled = [&](float scale) {
        const uint64_t seed = s.seed * 1000003ull + (++salt);
        return ValueFn([seed, scale](uint64_t i) { return (2.0f * uniform(seed, i) - 1.0f) * scale; });
    };
    auto constant = [](float v) { return ValueFn([v](uint64_t) { return v; }); };
    const DType dt = s.dtype;
    // A mixer matrix: in `dt`, or bitsandbytes 4-bit when asked.
    auto matrix = [&](const std::string& name, int64_t rows, int64_t cols, ValueFn value) {
        if (s.bnb_quant_type.empty())
            all.push_back(tensor(name, dt, {rows, cols}, std::move(value)));
        else
            add_bnb_matrix(all, name, rows, cols, value, s.bnb_quant_type);
    };
    const int64_t H = s.hidden, I = s.intermediate, N = s.state, R = s.dt_rank, K = s.conv;
    all.push_back(tensor("backbone.embeddings.weight", dt, {s.vocab, H}, scaled(1.0f)));
    for (int64_t l = 0; l < s.layers; ++l) {
        const std::string p = "backbone.layers." + std::to_string(l) + ".";
        all.push_back(tensor(p + "norm.weight", dt, {H}, constant(1.0f)));
        matrix(p + "mixer.in_proj.weight", 2 * I, H, scaled(1.0f / std::sqrt(float(H))));
        all.push_back(tensor(p + "mixer.conv1d.weight", dt, {I, 1, K}, scaled(0.5f)));
        all.push_back(tensor(p + "mixer.conv1d.bias", dt, {I}, scaled(0.1f)));
        matrix(p + "mixer.x_proj.weight", R + 2 * N, I, scaled(1.0f / std::sqrt(float(I))));
        matrix(p + "mixer.dt_proj.weight", I, R, scaled(1.0f / std::sqrt(float(R))));
        const uint64_t dt_seed = s.seed * 7919ull + static_cast<uint64_t>(l);
        all.push_back(tensor(p + "mixer.dt_proj.bias", dt, {I}, [dt_seed](uint64_t i) {
            const float step = std::exp(std::log(1e-3f) + uniform(dt_seed, i) * (std::log(1e-1f) - std::log(1e-3f)));
            return step + std::log(-std::expm1(-step));  // inverse softplus
        }));
        all.push_back(tensor(p + "mixer.A_log", DType::F32, {I, N}, [N](uint64_t i) {
            return std::log(static_cast<float>(i % static_cast<uint64_t>(N) + 1));
        }));
        all.push_back(tensor(p + "mixer.D", DType::F32, {I}, constant(1.0f)));
        matrix(p + "mixer.out_proj.weight", H, I, scaled(1.0f / std::sqrt(float(I))));
    }
    all.push_back(tensor("backbone.norm_f.weight", dt, {H}, constant(1.0f)));
    all.push_back(tensor("lm_head.weight", dt, {s.vocab, H}, scaled(1.0f / std::sqrt(float(H)))));

    nlohmann::ordered_json config = {
        {"architectures", {s.model_type == "mamba" ? "MambaForCausalLM" : "FalconMambaForCausalLM"}},
        {"model_type", s.model_type},
        {"hidden_size", H},
        {"intermediate_size", I},
        {"state_size", N},
        {"time_step_rank", R},
        {"conv_kernel", K},
        {"num_hidden_layers", s.layers},
        {"vocab_size", s.vocab},
        {"layer_norm_epsilon", 1e-5},
        {"mixer_rms_eps", 1e-6},
        {"tie_word_embeddings", false},
        {"use_bias", false},
        {"use_conv_bias", true},
        {"residual_in_fp32", true},
        {"bos_token_id", 0},
        {"eos_token_id", 11},
        {"pad_token_id", 11},
        {"torch_dtype", dtype_torch_name(dt)}};
    if (!s.bnb_quant_type.empty())
        config["quantization_config"] = {{"quant_method", "bitsandbytes"},
                                         {"load_in_4bit", true},
                                         {"load_in_8bit", false},
                                         {"bnb_4bit_quant_type", s.bnb_quant_type},
                                         {"bnb_4bit_use_double_quant", false},
                                         {"bnb_4bit_compute_dtype", "bfloat16"},
                                         {"bnb_4bit_quant_storage", "uint8"}};
    {
        std::ofstream out(dir / "config.json");
        out << config.dump(2) << "\n";
        if (!out) return Error{(dir / "config.json").string() + ": write failed"};
    }

    if (s.shards == 1) return write_safetensors(dir / "model.safetensors", all, {{"format", "pt"}});

    uint64_t total = 0;
    for (const auto& t : all) total += t.byte_size();
    const uint64_t target = total / static_cast<uint64_t>(s.shards) + 1;
    std::vector<std::vector<TensorToWrite>> shards(1);
    uint64_t in_shard = 0;
    for (auto& t : all) {
        if (in_shard >= target && static_cast<int>(shards.size()) < s.shards) {
            shards.emplace_back();
            in_shard = 0;
        }
        in_shard += t.byte_size();
        shards.back().push_back(std::move(t));
    }
    nlohmann::ordered_json index = {{"metadata", {{"total_size", total}}},
                                    {"weight_map", nlohmann::ordered_json::object()}};
    const int count = static_cast<int>(shards.size());
    for (int i = 0; i < count; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", i + 1, count);
        for (const auto& t : shards[static_cast<size_t>(i)]) index["weight_map"][t.name] = name;
        if (auto st = write_safetensors(dir / name, shards[static_cast<size_t>(i)], {{"format", "pt"}}); !st) return st;
    }
    std::ofstream out(dir / "model.safetensors.index.json");
    out << index.dump(2) << "\n";
    if (!out) return Error{(dir / "model.safetensors.index.json").string() + ": write failed"};
    return {};
}

CheckpointSpec falcon_mamba_7b_spec() {
    return {.hidden = 4096, .intermediate = 8192, .state = 16, .dt_rank = 256, .conv = 4, .layers = 64, .vocab = 65024};
}

CheckpointSpec bench_spec() {
    return {.hidden = 1024, .intermediate = 2048, .state = 16, .dt_rank = 64, .layers = 8};
}

bool set_shape_option(CheckpointSpec& spec, const std::string& option, const std::function<int64_t()>& value) {
    static constexpr std::pair<const char*, int64_t CheckpointSpec::*> kShapes[] = {
        {"--hidden", &CheckpointSpec::hidden}, {"--intermediate", &CheckpointSpec::intermediate},
        {"--state", &CheckpointSpec::state},   {"--dt-rank", &CheckpointSpec::dt_rank},
        {"--conv", &CheckpointSpec::conv},     {"--layers", &CheckpointSpec::layers},
        {"--vocab", &CheckpointSpec::vocab},
    };
    for (const auto& [name, field] : kShapes) {
        if (option == name) {
            spec.*field = value();
            return true;
        }
    }
    if (option != "--seed") return false;
    spec.seed = static_cast<uint64_t>(value());
    return true;
}

}  // namespace fm::testing
