#include "app/cli/model_loading.h"

#include <fstream>
#include <sstream>

namespace fm::cli {
namespace {

int64_t status_field_bytes(const std::string& key) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key + ":", 0) == 0) {
            std::istringstream fields(line.substr(key.size() + 1));
            int64_t kib = -1;
            fields >> kib;
            return kib < 0 ? -1 : kib * 1024;
        }
    }
    return -1;
}

}  // namespace

int64_t peak_resident_bytes() {
    return status_field_bytes("VmHWM");
}
int64_t current_resident_bytes() {
    return status_field_bytes("VmRSS");
}

Result<std::unique_ptr<Model>> load_model(const Args& args, std::ostream& err, TokenizerPolicy tokenizer,
                                          std::optional<BackendKind> backend_override) {
    if (!args.has("--model")) return Error{"--model DIR is required"};
    ModelOptions options;
    const std::string kind = args.get("--backend", "auto");
    if (kind == "cpu")
        options.backend.kind = BackendKind::Cpu;
    else if (kind == "cuda")
        options.backend.kind = BackendKind::Cuda;
    else if (kind == "auto")
        options.backend.kind = BackendKind::Auto;
    else
        return Error{"--backend must be auto, cpu or cuda"};
    auto threads = args.get_int("--threads", 0);
    if (!threads) return Error{threads.error()};
    options.backend.cpu_threads = static_cast<int>(*threads);
    if (backend_override) options.backend.kind = *backend_override;
    options.quantize_4bit = args.has("--4bit");
    options.tokenizer = tokenizer;
    auto model = Model::load(args.get("--model"), options);
    if (!model) return Error{model.error()};
    if (!(*model)->backend_fallback_reason().empty())
        err << "note: running on the CPU: " << (*model)->backend_fallback_reason() << "\n";
    return model;
}

}  // namespace fm::cli
