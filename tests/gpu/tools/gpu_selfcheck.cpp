// gpu_selfcheck: the GPU correctness checks without Qt (for machines that have CUDA but no Qt,
// like the benchmark machine). Every kernel against its CPU twin, then the CUDA backend against
// the CPU backend on the fixture checkpoints. Prints one JSON object per check and a summary;
// exits 0 when all pass, 1 when one fails, 77 when there is no usable CUDA device.
//   gpu_selfcheck [--data DIR] [--filter SUBSTRING] [--kernels] [--backend]

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "tests/gpu/tools/gpu_checks.h"

namespace {

std::string json_escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '"' || c == '\\')
            o += '\\', o += c;
        else if (static_cast<unsigned char>(c) < 0x20)
            o += ' ';
        else
            o += c;
    }
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    std::string data = FM_TEST_DATA_DIR, filter;
    bool kernels = true, backend = true;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--data" && i + 1 < argc)
            data = argv[++i];
        else if (a == "--filter" && i + 1 < argc)
            filter = argv[++i];
        else if (a == "--kernels")
            backend = false;
        else if (a == "--backend")
            kernels = false;
        else {
            std::fprintf(stderr, "usage: gpu_selfcheck [--data DIR] [--filter SUBSTRING] [--kernels] [--backend]\n");
            return 2;
        }
    }
    std::string why;
    if (!fm::gpucheck::have_device(&why)) {
        std::printf("{\"skipped\": true, \"reason\": \"%s\"}\n", json_escape(why).c_str());
        return 77;
    }
    std::vector<fm::gpucheck::Case> cases;
    if (kernels) cases = fm::gpucheck::kernel_cases();
    if (backend) {
        auto b = fm::gpucheck::backend_cases(data);
        cases.insert(cases.end(), b.begin(), b.end());
    }
    int passed = 0, failed = 0;
    for (const auto& c : cases) {
        if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
        const auto t0 = std::chrono::steady_clock::now();
        const fm::gpucheck::Outcome o = c.run();
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        (o.pass ? passed : failed) += 1;
        std::printf("{\"check\": \"%s\", \"pass\": %s, \"max_abs_err\": %.3g, \"ms\": %.0f, \"detail\": \"%s\"}\n",
                    json_escape(c.name).c_str(), o.pass ? "true" : "false", o.max_abs_err, ms,
                    json_escape(o.detail).c_str());
        std::fflush(stdout);
    }
    std::printf("{\"summary\": {\"passed\": %d, \"failed\": %d}}\n", passed, failed);
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
