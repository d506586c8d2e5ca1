// info, logits: the commands that need only the model, not the tokenizer (bench: bench_command.cpp).

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "app/cli/cli.h"
#include "app/cli/model_loading.h"
#include "inference/checkpoint/config.h"

namespace fm::cli {
namespace {

using json = nlohmann::ordered_json;

// NumPy .npy version 1.0: float32 little-endian, C order.
Status write_npy(const std::string& path, const std::vector<float>& data, int64_t rows, int64_t cols) {
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
                         std::to_string(cols) + "), }";
    const size_t unpadded = 10 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header.push_back('\n');
    const std::string tmp = path + ".tmp";
    std::ofstream out(tmp, std::ios::binary);
    if (!out) return Error{path + ": cannot create"};
    const char magic[] = "\x93NUMPY\x01\x00";
    out.write(magic, 8);
    const uint16_t len = static_cast<uint16_t>(header.size());
    out.put(static_cast<char>(len & 0xff));
    out.put(static_cast<char>(len >> 8));
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size() * sizeof(float)));
    out.close();
    if (!out) {
        std::remove(tmp.c_str());
        return Error{path + ": write failed (disk full?)"};
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) return Error{path + ": cannot move the file into place"};
    return {};
}

}  // namespace

int cmd_info(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    auto args = Args::parse(argv, kModelFlags, kModelOptions);
    if (!args) return fail(err, "info", args.error());
    // The weights and their sizes only: no device is needed for that.
    auto model = load_model(*args, err, TokenizerPolicy::IfPresent, BackendKind::Cpu);
    if (!model) return fail(err, "info", model.error());
    const ModelWeights& w = (*model)->weights();
    json j;
    j["model"] = args->get("--model");
    j["config"] = json::parse(w.config.to_json().dump());
    j["weight_format"] = w.format == WeightFormat::Q4 ? "4bit" : "native";
    j["weight_dtype"] = w.format == WeightFormat::Q4
                            ? std::string("Q4 (mixer matrices), ") + dtype_name(w.embedding.dtype) + " (embeddings)"
                            : std::string(dtype_name(w.stored_dtype));
    j["parameters"] = w.config.parameter_count();
    j["weight_bytes"] = w.weight_bytes();
    j["file_bytes"] = w.store.total_bytes();
    j["state_bytes"] = w.config.state_bytes();
    j["fingerprint"] = w.fingerprint();
    const auto cuda = cuda_availability();
    j["cuda"] = cuda.available ? json{{"available", true}, {"device", cuda.device_name}}
                               : json{{"available", false}, {"reason", cuda.reason}};
    out << j.dump(2) << "\n";
    return 0;
}

int cmd_logits(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    auto args = Args::parse(argv, kModelFlags, with(kModelOptions, {"--tokens", "--out", "--chunk"}));
    if (!args) return fail(err, "logits", args.error());
    auto tokens = args->get_ids("--tokens");
    if (!tokens) return fail(err, "logits", tokens.error());
    if (tokens->empty()) return fail(err, "logits", "--tokens needs at least one id");
    if (!args->has("--out")) return fail(err, "logits", "--out FILE.npy is required");
    auto chunk = args->get_int("--chunk", 256);
    if (!chunk || *chunk <= 0) return fail(err, "logits", "--chunk must be a positive integer");
    auto model = load_model(*args, err);
    if (!model) return fail(err, "logits", model.error());
    ForwardOptions options;
    options.chunk_size = *chunk;
    std::vector<float> logits;
    auto n = (*model)->backend().forward(*tokens, LogitsMode::All, logits, options);
    if (!n) return fail(err, "logits", n.error());
    const int64_t V = (*model)->weights().config.vocab_size;
    if (auto s = write_npy(args->get("--out"), logits, static_cast<int64_t>(tokens->size()), V); !s)
        return fail(err, "logits", s.error());
    out << json{{"out", args->get("--out")}, {"shape", {tokens->size(), V}}, {"backend", (*model)->backend().name()}}
               .dump()
        << "\n";
    return 0;
}

}  // namespace fm::cli
