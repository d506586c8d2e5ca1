// bench_q4: CPU speed of 4-bit weights against bf16, printed as JSON.
//
//   bench_q4 [--hidden 1024] [--intermediate 2048] [--layers 8] [--vocab 8192] [--state 16]
//            [--dt-rank 64] [--decode 32] [--prefill 128] [--threads 0] [--repeat 3]
//            [--dir DIR] [--seed 1]
//
// Writes a random bf16 checkpoint of that shape (into DIR, or a temporary folder removed at the
// end), loads it twice, as is and quantized on load, and measures on the CPU backend:
//   - decode tokens/s (one token per forward call, logits of the last token);
//   - prefill tokens/s (one chunk of --prefill tokens);
//   - the time quantize-on-load took, and quantizer throughput on one large matrix;
//   - matrix-vector throughput of the 4-bit kernel (both dispatch paths) and bf16 on a
//     4096 x 4096 matrix, in weights/s and GB/s of weights read.
// The best of --repeat runs is reported.

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "inference/backends/backend.h"
#include "inference/checkpoint/config.h"
#include "inference/checkpoint/quant4.h"
#include "inference/checkpoint/weights.h"
#include "kernels/common/numerics.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/q4.h"
#include "kernels/cpu/thread_pool.h"
#include "tests/tools/checkpoint_generator.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU time of the whole process (all threads). On a machine shared with other work, wall time
// overstates the cost; work per CPU-second is what one otherwise idle core would do.
double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

struct Timing {
    double wall = 1e30;
    double cpu = 1e30;
};

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "bench_q4: %s\n", what.c_str());
    std::exit(1);
}

struct ForwardSpeed {
    double decode_tps = 0;
    double decode_tpcs = 0;  // tokens per CPU-second
    double prefill_tps = 0;
    double prefill_tpcs = 0;
};

ForwardSpeed measure(const std::shared_ptr<fm::ModelWeights>& w, int threads, int decode, int prefill, int repeat) {
    ForwardSpeed best;
    auto backend = fm::make_cpu_backend(w, threads);
    std::mt19937 rng(5);
    std::vector<int32_t> prompt(static_cast<size_t>(prefill));
    for (auto& t : prompt) t = static_cast<int32_t>(rng() % static_cast<uint32_t>(w->config.vocab_size));
    std::vector<float> logits;
    for (int r = 0; r < repeat; ++r) {
        backend->reset_state();
        fm::ForwardOptions options;
        options.chunk_size = prefill;
        auto t0 = Clock::now();
        double c0 = cpu_seconds();
        if (auto n = backend->forward(prompt, fm::LogitsMode::Last, logits, options); !n) fail(n.error());
        best.prefill_tps = std::max(best.prefill_tps, prefill / seconds_since(t0));
        best.prefill_tpcs = std::max(best.prefill_tpcs, prefill / (cpu_seconds() - c0));

        int32_t next = 0;
        t0 = Clock::now();
        c0 = cpu_seconds();
        for (int i = 0; i < decode; ++i) {
            next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
            if (auto n = backend->forward(std::span<const int32_t>(&next, 1), fm::LogitsMode::Last, logits); !n)
                fail(n.error());
        }
        best.decode_tps = std::max(best.decode_tps, decode / seconds_since(t0));
        best.decode_tpcs = std::max(best.decode_tpcs, decode / (cpu_seconds() - c0));
    }
    return best;
}

// Best wall and CPU time of `repeat` calls of fn.
template <typename F>
Timing best_time(int repeat, F&& fn) {
    Timing best;
    for (int r = 0; r < repeat; ++r) {
        auto t0 = Clock::now();
        const double c0 = cpu_seconds();
        fn();
        best.wall = std::min(best.wall, seconds_since(t0));
        best.cpu = std::min(best.cpu, cpu_seconds() - c0);
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    fm::testing::CheckpointSpec spec = fm::testing::bench_spec();
    spec.vocab = 8192;
    spec.dtype = fm::DType::BF16;
    int decode = 32, prefill = 128, threads = 0, repeat = 3;
    std::string dir_arg;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) fail(a + " needs a value");
            return argv[++i];
        };
        auto number = [&]() {
            const std::string v = next();
            char* end = nullptr;
            const long long n = std::strtoll(v.c_str(), &end, 10);
            if (!end || *end || n < 0) fail(a + " needs a non-negative integer, got '" + v + "'");
            return static_cast<int64_t>(n);
        };
        if (fm::testing::set_shape_option(spec, a, number)) continue;
        if (a == "--decode")
            decode = static_cast<int>(std::max<int64_t>(1, number()));
        else if (a == "--prefill")
            prefill = static_cast<int>(std::max<int64_t>(1, number()));
        else if (a == "--threads")
            threads = static_cast<int>(number());
        else if (a == "--repeat")
            repeat = static_cast<int>(std::max<int64_t>(1, number()));
        else if (a == "--dir")
            dir_arg = next();
        else
            fail("unknown option " + a + " (see the top of tests/bench/bench_q4.cpp)");
    }
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

    const bool temporary = dir_arg.empty();
    const fs::path dir =
        temporary ? fs::temp_directory_path() / ("bench_q4-" + std::to_string(::getpid())) : fs::path(dir_arg);
    if (!fs::exists(dir / "config.json"))
        if (auto s = fm::testing::write_random_checkpoint(dir, spec); !s) fail(s.error());

    auto t0 = Clock::now();
    auto native = fm::load_weights(dir);
    if (!native) fail(native.error());
    const double load_native_s = seconds_since(t0);
    fm::LoadOptions options;
    options.quantize_4bit = true;
    t0 = Clock::now();
    auto quant = fm::load_weights(dir, options);
    if (!quant) fail(quant.error());
    const double load_q4_s = seconds_since(t0);

    const ForwardSpeed bf16 = measure(*native, threads, decode, prefill, repeat);
    const ForwardSpeed q4 = measure(*quant, threads, decode, prefill, repeat);

    // Kernel level: one 4096 x 4096 matrix, y = W x.
    const int64_t R = 4096, C = 4096;
    std::mt19937 rng(3);
    std::normal_distribution<float> g(0.0f, 0.02f);
    std::vector<uint16_t> wb(static_cast<size_t>(R * C));
    for (auto& v : wb) v = fm::num::float_to_bf16(g(rng));
    fm::MatrixView mb;
    mb.dtype = fm::DType::BF16;
    mb.rows = R;
    mb.cols = C;
    mb.data = wb.data();
    fm::ThreadPool pool(threads);
    fm::Q4Storage storage;
    auto mq = fm::quantize_q4(mb, storage, &pool);
    if (!mq) fail(mq.error());
    const Timing quantize_s = best_time(repeat, [&] {
        fm::Q4Storage s;
        if (!fm::quantize_q4(mb, s, &pool)) fail("quantize failed");
    });
    std::vector<float> x(static_cast<size_t>(C)), y(static_cast<size_t>(R));
    for (auto& v : x) v = g(rng);
    const int reps = 20;
    auto matvec = [&](const fm::MatrixView& m, fm::cpu::Q4Isa isa, bool q) {
        Timing t = best_time(repeat, [&] {
            for (int i = 0; i < reps; ++i) {
                if (q)
                    fm::cpu::matmul_q4(m, x.data(), 1, C, y.data(), R, &pool, isa);
                else
                    fm::cpu::matmul(m, x.data(), 1, C, y.data(), R, false, &pool);
            }
        });
        t.wall /= reps;
        t.cpu /= reps;
        return t;
    };
    const Timing t_bf16 = matvec(mb, fm::cpu::Q4Isa::Auto, false);
    const Timing t_q4 = matvec(*mq, fm::cpu::Q4Isa::Auto, true);
    const Timing t_q4_portable = matvec(*mq, fm::cpu::Q4Isa::Portable, true);
    const double weights = double(R * C);

    auto mixer_bytes = [](const fm::ModelWeights& w) {
        int64_t total = 0;
        for (const auto& l : w.layers)
            total += l.in_proj.bytes() + l.x_proj.bytes() + l.dt_proj.bytes() + l.out_proj.bytes();
        return total;
    };
    int64_t mixer_weights = 0;
    for (const auto& l : (*native)->layers)
        mixer_weights += l.in_proj.elements() + l.x_proj.elements() + l.dt_proj.elements() + l.out_proj.elements();

    std::printf("{\n");
    std::printf(
        "  \"model\": {\"hidden\": %lld, \"intermediate\": %lld, \"layers\": %lld, \"vocab\": %lld, \"state\": %lld, "
        "\"dt_rank\": %lld},\n",
        (long long)spec.hidden, (long long)spec.intermediate, (long long)spec.layers, (long long)spec.vocab,
        (long long)spec.state, (long long)spec.dt_rank);
    std::printf("  \"threads\": %d,\n  \"q4_kernel\": \"%s\",\n", threads, fm::cpu::q4_isa_name());
    std::printf("  \"weight_bytes\": {\"bf16\": %lld, \"q4\": %lld, \"mixer_bf16\": %lld, \"mixer_q4\": %lld},\n",
                (long long)(*native)->weight_bytes(), (long long)(*quant)->weight_bytes(),
                (long long)mixer_bytes(**native), (long long)mixer_bytes(**quant));
    std::printf("  \"load_seconds\": {\"bf16\": %.3f, \"q4_quantize_on_load\": %.3f, \"quantized_weights\": %lld},\n",
                load_native_s, load_q4_s, (long long)mixer_weights);
    std::printf("  \"decode_tokens_per_s\": {\"bf16\": %.2f, \"q4\": %.2f, \"speedup\": %.2f},\n", bf16.decode_tps,
                q4.decode_tps, q4.decode_tps / bf16.decode_tps);
    std::printf("  \"decode_tokens_per_cpu_s\": {\"bf16\": %.2f, \"q4\": %.2f, \"speedup\": %.2f},\n", bf16.decode_tpcs,
                q4.decode_tpcs, q4.decode_tpcs / bf16.decode_tpcs);
    std::printf("  \"prefill_tokens_per_s\": {\"chunk\": %d, \"bf16\": %.1f, \"q4\": %.1f},\n", prefill,
                bf16.prefill_tps, q4.prefill_tps);
    std::printf("  \"prefill_tokens_per_cpu_s\": {\"chunk\": %d, \"bf16\": %.1f, \"q4\": %.1f},\n", prefill,
                bf16.prefill_tpcs, q4.prefill_tpcs);
    std::printf(
        "  \"matvec_4096x4096\": {\"bf16_ms\": %.3f, \"q4_ms\": %.3f, \"q4_portable_ms\": %.3f, "
        "\"bf16_gb_per_s\": %.2f, \"q4_gb_per_s\": %.2f, \"q4_gweights_per_s\": %.2f, "
        "\"q4_portable_gweights_per_s\": %.2f, \"per_cpu_s\": {\"bf16_gweights\": %.2f, \"q4_gweights\": %.2f, "
        "\"q4_portable_gweights\": %.2f}},\n",
        t_bf16.wall * 1e3, t_q4.wall * 1e3, t_q4_portable.wall * 1e3, weights * 2 / t_bf16.wall / 1e9,
        double(mq->bytes()) / t_q4.wall / 1e9, weights / t_q4.wall / 1e9, weights / t_q4_portable.wall / 1e9,
        weights / t_bf16.cpu / 1e9, weights / t_q4.cpu / 1e9, weights / t_q4_portable.cpu / 1e9);
    std::printf(
        "  \"quantize\": {\"weights\": %lld, \"seconds\": %.4f, \"mweights_per_s\": %.1f, "
        "\"mweights_per_cpu_s\": %.1f, \"projected_seconds_for_6.7e9_weights\": %.1f}\n",
        (long long)(R * C), quantize_s.wall, weights / quantize_s.wall / 1e6, weights / quantize_s.cpu / 1e6,
        6.7e9 / (weights / quantize_s.wall));
    std::printf("}\n");

    if (temporary) {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    return 0;
}
