// bench_cuda: speed and memory of the CUDA backend on a checkpoint (normally a random one with
// the 7B shapes from make_checkpoint). Prints one JSON object.
//   bench_cuda --model DIR [--q4] [--prompt 4096] [--chunk 2048] [--window 200]
//              [--near 1000] [--far 100000] [--far-mode prefill|decode] [--bandwidth 4.8e12]
//              [--out FILE]
// - decode: greedy decoding on the device (graph replays), timed over `window` tokens after
//   `near` generated tokens and again at position `far`. The state has a fixed size, so the
//   position is reached either by really generating (--far-mode decode: ~5 minutes for 100k on
//   an H200) or, by default, by a chunked prefill of random tokens, which runs the same
//   recurrence and fills the state the same way at ~50x the speed.
// - the bandwidth limit: bytes read per decoded token (every matrix and vector but the embedding,
//   which only contributes one row) / bandwidth.
// - prefill: a `prompt`-token random prompt in chunks of `chunk`, best of three.
// - memory: device memory in use (cudaMemGetInfo) after each phase, and the backend's report.

#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "inference/backends/backend.h"
#include "inference/backends/cuda_backend.h"
#include "inference/checkpoint/config.h"
#include "inference/checkpoint/weights.h"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

int64_t device_used() {
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) return -1;
    return static_cast<int64_t>(total_b - free_b);
}

int64_t decode_bytes(const fm::ModelWeights& w) {
    int64_t b = w.lm_head.bytes() + static_cast<int64_t>(w.norm_f.size() * 4);
    for (const auto& l : w.layers) {
        b += l.in_proj.bytes() + l.x_proj.bytes() + l.dt_proj.bytes() + l.out_proj.bytes();
        b += static_cast<int64_t>(
            (l.norm.size() + l.conv_weight.size() + l.conv_bias.size() + l.dt_bias.size() + l.A.size() + l.D.size()) *
            4);
    }
    b += w.embedding.cols * std::max<int64_t>(1, fm::dtype_size_bits(w.embedding.dtype) / 8);  // one row
    return b;
}

[[noreturn]] void fail(const std::string& what) {
    std::printf("{\"error\": \"%s\"}\n", what.c_str());
    std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
    std::string model, out_file, far_mode = "prefill";
    bool q4 = false;
    int64_t prompt_len = 4096, chunk = 2048, window = 200, near = 1000, far = 100000;
    double bandwidth = 4.8e12;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) fail(a + " needs a value");
            return argv[++i];
        };
        if (a == "--model")
            model = next();
        else if (a == "--q4")
            q4 = true;
        else if (a == "--prompt")
            prompt_len = std::stoll(next());
        else if (a == "--chunk")
            chunk = std::stoll(next());
        else if (a == "--window")
            window = std::stoll(next());
        else if (a == "--near")
            near = std::stoll(next());
        else if (a == "--far")
            far = std::stoll(next());
        else if (a == "--far-mode")
            far_mode = next();
        else if (a == "--bandwidth")
            bandwidth = std::stod(next());
        else if (a == "--out")
            out_file = next();
        else
            fail("unknown option " + a);
    }
    if (model.empty()) fail("usage: bench_cuda --model DIR [--q4] ... (see the source)");

    fm::CudaAvailability avail = fm::probe_cuda();
    if (!avail.available) fail("CUDA unavailable: " + avail.reason);

    auto t = Clock::now();
    fm::LoadOptions lo;
    lo.quantize_4bit = q4;
    auto loaded = fm::load_weights(model, lo);
    if (!loaded) fail("loading: " + loaded.error());
    std::shared_ptr<const fm::ModelWeights> w = *loaded;
    const double load_s = seconds_since(t);
    const fm::ModelConfig& c = w->config;

    t = Clock::now();
    auto made = fm::make_cuda_backend(w);
    if (!made) fail(made.error());
    std::unique_ptr<fm::Backend> b = std::move(*made);
    const double upload_s = seconds_since(t);
    const int64_t bytes_per_token = decode_bytes(*w);
    const double limit_tps = bandwidth / static_cast<double>(bytes_per_token);

    std::mt19937 rng(1);
    auto random_tokens = [&](int64_t n) {
        std::vector<int32_t> v(static_cast<size_t>(n));
        for (auto& x : v) x = static_cast<int32_t>(rng() % static_cast<uint32_t>(c.vocab_size));
        return v;
    };
    std::vector<float> logits;
    fm::ForwardOptions fo;
    fo.chunk_size = chunk;
    int64_t peak = device_used();

    // Prefill: warm up (cuBLAS heuristics, workspace), then best of three.
    auto prompt = random_tokens(prompt_len);
    if (auto r = b->forward(std::span<const int32_t>(prompt).first(std::min<int64_t>(prompt_len, chunk)),
                            fm::LogitsMode::Last, logits, fo);
        !r)
        fail("prefill warm-up: " + r.error());
    double prefill_best = 1e30;
    for (int k = 0; k < 3; ++k) {
        b->reset_state();
        t = Clock::now();
        if (auto r = b->forward(prompt, fm::LogitsMode::Last, logits, fo); !r) fail("prefill: " + r.error());
        prefill_best = std::min(prefill_best, seconds_since(t));
    }
    peak = std::max(peak, device_used());

    // Decode near the start: generate `near` tokens, then time a window.
    b->reset_state();
    if (auto g = fm::cuda_greedy_decode(*b, 0, 16); !g) fail("decode warm-up: " + g.error());  // captures the graph
    b->reset_state();
    t = Clock::now();
    auto gen = fm::cuda_greedy_decode(*b, 1, near);
    if (!gen) fail("decode: " + gen.error());
    const double near_gen_s = seconds_since(t);
    t = Clock::now();
    auto win = fm::cuda_greedy_decode(*b, gen->back(), window);
    if (!win) fail("decode: " + win.error());
    const double near_s = seconds_since(t);
    const int64_t near_used = device_used();
    const fm::MemoryReport near_mem = b->memory();
    peak = std::max(peak, near_used);
    const uint64_t near_pos = b->state().tokens_seen;

    // Far: reach position `far`, then the same window.
    const int64_t to_go = std::max<int64_t>(0, far - static_cast<int64_t>(near_pos));
    t = Clock::now();
    int32_t last = win->back();
    if (far_mode == "decode") {
        auto g = fm::cuda_greedy_decode(*b, last, to_go);
        if (!g) fail("decode to far: " + g.error());
        if (!g->empty()) last = g->back();
    } else {
        const int64_t piece = 16384;  // host-side token buffer; the device works in `chunk`s
        for (int64_t done = 0; done < to_go; done += piece) {
            auto toks = random_tokens(std::min(piece, to_go - done));
            if (auto r = b->forward(toks, fm::LogitsMode::None, logits, fo); !r) fail("prefill to far: " + r.error());
            peak = std::max(peak, device_used());
        }
    }
    const double reach_s = seconds_since(t);
    t = Clock::now();
    auto far_win = fm::cuda_greedy_decode(*b, last, window);
    if (!far_win) fail("decode far: " + far_win.error());
    const double far_s = seconds_since(t);
    const int64_t far_used = device_used();
    const fm::MemoryReport far_mem = b->memory();
    peak = std::max(peak, far_used);
    const uint64_t far_pos = b->state().tokens_seen;

    const double near_tps = static_cast<double>(window) / near_s, far_tps = static_cast<double>(window) / far_s;
    char json[4096];
    std::snprintf(
        json, sizeof json,
        "{\"device\": \"%s\", \"backend\": \"%s\", \"weights\": \"%s\", \"layers\": %lld, \"hidden\": %lld,\n"
        " \"load_s\": %.1f, \"upload_s\": %.1f, \"weight_bytes_per_token\": %lld, \"bandwidth_bytes_per_s\": %.3g,\n"
        " \"decode_limit_tokens_per_s\": %.1f,\n"
        " \"decode_near\": {\"position\": %llu, \"tokens_per_s\": %.1f, \"percent_of_limit\": %.1f, "
        "\"device_used_bytes\": %lld,"
        " \"generate_%lld_s\": %.2f},\n"
        " \"decode_far\": {\"position\": %llu, \"reached_by\": \"%s\", \"reach_s\": %.1f, \"tokens_per_s\": %.1f,"
        " \"percent_of_limit\": %.1f, \"device_used_bytes\": %lld},\n"
        " \"prefill\": {\"prompt_tokens\": %lld, \"chunk\": %lld, \"tokens_per_s\": %.0f},\n"
        " \"memory\": {\"weights\": %lld, \"state\": %lld, \"workspace_near\": %lld, \"workspace_far\": %lld,"
        " \"device_peak_used\": %lld, \"device_total\": %lld},\n"
        " \"goals\": {\"decode_tps\": %d, \"prefill_tps\": 20000, \"flat\": %s}}\n",
        avail.device_name.c_str(), b->name().c_str(), q4 ? "q4 (quantized on load)" : fm::dtype_name(w->stored_dtype),
        static_cast<long long>(c.num_layers), static_cast<long long>(c.hidden_size), load_s, upload_s,
        static_cast<long long>(bytes_per_token), bandwidth, limit_tps, static_cast<unsigned long long>(near_pos),
        near_tps, 100.0 * near_tps / limit_tps, static_cast<long long>(near_used), static_cast<long long>(near),
        near_gen_s, static_cast<unsigned long long>(far_pos), far_mode.c_str(), reach_s, far_tps,
        100.0 * far_tps / limit_tps, static_cast<long long>(far_used), static_cast<long long>(prompt_len),
        static_cast<long long>(chunk), static_cast<double>(prompt_len) / prefill_best,
        static_cast<long long>(near_mem.weight_bytes), static_cast<long long>(near_mem.state_bytes),
        static_cast<long long>(near_mem.workspace_bytes), static_cast<long long>(far_mem.workspace_bytes),
        static_cast<long long>(peak), static_cast<long long>(far_mem.device_total_bytes), q4 ? 650 : 280,
        near_used == far_used && near_mem.workspace_bytes == far_mem.workspace_bytes ? "true" : "false");
    std::fputs(json, stdout);
    if (!out_file.empty()) {
        if (FILE* f = std::fopen(out_file.c_str(), "w")) {
            std::fputs(json, f);
            std::fclose(f);
        }
    }
    return 0;
}
