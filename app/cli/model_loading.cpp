#include "app/cli/model_loading.h"

#include <chrono>
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

int64_t peak_resident_bytes() { return status_field_bytes("VmHWM"); }
int64_t current_resident_bytes() { return status_field_bytes("VmRSS"); }

Result<LoadedModel> load_model(const Args& args, std::ostream& err) {
    if (!args.has("--model")) return Error{"--model DIR is required"};
    BackendRequest request;
    const std::string kind = args.get("--backend", "auto");
    if (kind == "cpu") request.kind = BackendKind::Cpu;
    else if (kind == "cuda") request.kind = BackendKind::Cuda;
    else if (kind == "auto") request.kind = BackendKind::Auto;
    else return Error{"--backend must be auto, cpu or cuda"};
    auto threads = args.get_int("--threads", 0);
    if (!threads) return Error{threads.error()};
    request.cpu_threads = static_cast<int>(*threads);

    LoadOptions options;
    options.quantize_4bit = args.has("--4bit");
    const auto start = std::chrono::steady_clock::now();
    auto weights = load_weights(args.get("--model"), options);
    if (!weights) return Error{weights.error()};
    auto choice = create_backend(*weights, request);
    if (!choice) return Error{choice.error()};
    if (!choice->fallback_reason.empty() && request.kind != BackendKind::Cpu)
        err << "note: running on the CPU: " << choice->fallback_reason << "\n";
    LoadedModel m;
    m.weights = *weights;
    m.backend = std::move(choice->backend);
    m.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return m;
}

}  // namespace fm::cli
