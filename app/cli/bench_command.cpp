// bench: what a user's machine gives on a model, as one JSON object per run (one line each):
// load time, prefill and decode speed, time to first token, peak and weight memory, and how
// close decode comes to the machine's read bandwidth, which the bench measures itself with the
// same number of threads. `--threads 1,2` runs once per thread count (a fresh load each).

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/cli/cli.h"
#include "app/cli/model_loading.h"
#include "inference/checkpoint/config.h"
#include "kernels/cpu/thread_pool.h"

namespace fm::cli {
namespace {

using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Starts a new peak for VmHWM (Linux: "5" to clear_refs resets the high-water mark), so each
// run of a multi-run bench reports its own peak.
void reset_peak_resident() {
    std::ofstream("/proc/self/clear_refs") << "5";
}

// Best of five passes reading `mib` MiB with `threads` threads, each its own contiguous share
// (as the decode kernels stream their rows); bytes per second.
double read_bandwidth(int threads, int64_t mib) {
    const size_t n = static_cast<size_t>(mib) * (1u << 20) / sizeof(uint64_t);
    std::vector<uint64_t> buffer(n);
    ThreadPool pool(threads);
    pool.parallel_for(static_cast<int64_t>(n), 4096, [&](int64_t a, int64_t b) {
        for (int64_t i = a; i < b; ++i) buffer[static_cast<size_t>(i)] = static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15u;
    });
    double best = 0;
    volatile uint64_t sink = 0;
    for (int pass = 0; pass < 5; ++pass) {
        const auto t0 = Clock::now();
        pool.parallel_for(static_cast<int64_t>(n), 4096, [&](int64_t a, int64_t b) {
            uint64_t acc[8] = {};
            int64_t i = a;
            for (; i + 8 <= b; i += 8)
                for (int k = 0; k < 8; ++k) acc[k] ^= buffer[static_cast<size_t>(i + k)];
            for (; i < b; ++i) acc[0] ^= buffer[static_cast<size_t>(i)];
            uint64_t x = 0;
            for (uint64_t v : acc) x ^= v;
            sink = sink ^ x;
        });
        best = std::max(best, static_cast<double>(n * sizeof(uint64_t)) / seconds_since(t0));
    }
    return best;
}

Result<std::vector<int>> thread_counts(const Args& args) {
    std::vector<int> counts;
    std::stringstream list(args.get("--threads", "0"));
    std::string item;
    while (std::getline(list, item, ',')) {
        char* end = nullptr;
        const long v = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || v < 0 || v > 1024)
            return Error{"--threads takes a thread count or a list such as 1,2 (0: one per core), not '" +
                         args.get("--threads") + "'"};
        counts.push_back(static_cast<int>(v));
    }
    return counts;
}

struct BenchSizes {
    int64_t prompt = 512, generate = 128, chunk = 256, bandwidth_mib = 1024;
};

Result<json> bench_once(const Args& args, const BenchSizes& n, int threads, std::ostream& err) {
    reset_peak_resident();
    const int64_t rss_before = current_resident_bytes();
    Args run = args;
    run.set("--threads", std::to_string(threads));
    auto model = load_model(run, err);
    if (!model) return Error{model.error()};
    Backend& backend = (*model)->backend();
    const ModelWeights& weights = (*model)->weights();
    const int64_t V = backend.config().vocab_size;

    std::mt19937 rng(1234);
    std::vector<int32_t> prompt(static_cast<size_t>(n.prompt));
    for (auto& t : prompt) t = static_cast<int32_t>(rng() % static_cast<uint32_t>(V));
    ForwardOptions options;
    options.chunk_size = n.chunk;
    std::vector<float> logits;
    auto argmax = [&] { return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin()); };
    auto t0 = Clock::now();
    auto fed = backend.forward(prompt, LogitsMode::Last, logits, options);
    if (!fed) return Error{fed.error()};
    const double prefill_s = seconds_since(t0);
    int32_t next = argmax();
    const double first_token_s = seconds_since(t0);

    // Greedy decoding, each token fed back: what a chat reply costs per token.
    t0 = Clock::now();
    for (int64_t i = 0; i < n.generate; ++i) {
        auto r = backend.forward(std::span<const int32_t>(&next, 1), LogitsMode::Last, logits);
        if (!r) return Error{r.error()};
        next = argmax();
    }
    const double decode_s = seconds_since(t0);
    const MemoryReport mem = backend.memory();
    const double decode_tps = decode_s > 0 ? static_cast<double>(n.generate) / decode_s : 0.0;
    // A token reads its weights once and the recurrent state once, and writes the state.
    const int64_t bytes_per_token = weights.decode_read_bytes() + 2 * mem.state_bytes;

    json j;
    j["model"] = args.get("--model");
    j["backend"] = backend.name();
    j["threads"] = threads;
    j["weight_format"] = weights.format == WeightFormat::Q4 ? "4bit" : "native";
    j["load_seconds"] = (*model)->load_seconds();
    j["prompt_tokens"] = n.prompt;
    j["prefill_seconds"] = prefill_s;
    j["prefill_tokens_per_second"] = prefill_s > 0 ? static_cast<double>(n.prompt) / prefill_s : 0.0;
    j["time_to_first_token_seconds"] = first_token_s;
    j["generated_tokens"] = n.generate;
    j["decode_seconds"] = decode_s;
    j["decode_tokens_per_second"] = decode_tps;
    j["weight_bytes"] = mem.weight_bytes;
    j["resident_weight_bytes"] = weights.resident_bytes();
    j["state_bytes"] = mem.state_bytes;
    j["workspace_bytes"] = mem.workspace_bytes;
    j["resident_bytes_before_load"] = rss_before;
    j["resident_bytes_after_decode"] = current_resident_bytes();
    j["peak_resident_bytes"] = peak_resident_bytes();
    j["decode_bytes_per_token"] = bytes_per_token;
    if (mem.device_total_bytes >= 0) {
        j["device_free_bytes"] = mem.device_free_bytes;
        j["device_total_bytes"] = mem.device_total_bytes;
    }
    (*model).reset();  // the bandwidth probe runs without the model's memory
    if (n.bandwidth_mib > 0) {
        const double bw = read_bandwidth(threads, n.bandwidth_mib);
        j["read_bandwidth_bytes_per_second"] = bw;
        j["decode_bandwidth_share"] = bw > 0 ? static_cast<double>(bytes_per_token) * decode_tps / bw : 0.0;
    }
    return j;
}

// --flat A,B: is decode as fast after a prompt of A tokens as after one of B? Both states are
// made once; then decode bursts of `generate` tokens alternate between them for `rounds` rounds
// in this one process, so that the machine's drift (which between separate runs is larger than
// the differences asked about) falls on both alike. Prints the per-round and median tokens/s.
Result<json> bench_flat(const Args& args, const BenchSizes& n, std::vector<int32_t> lengths, int rounds,
                        std::ostream& err) {
    auto model = load_model(args, err);
    if (!model) return Error{model.error()};
    Backend& backend = (*model)->backend();
    const int64_t V = backend.config().vocab_size;
    std::mt19937 rng(1234);
    ForwardOptions options;
    options.chunk_size = n.chunk;
    std::vector<float> logits;
    std::vector<RecurrentState> states;
    for (int32_t length : lengths) {
        std::vector<int32_t> prompt(static_cast<size_t>(length));
        for (auto& t : prompt) t = static_cast<int32_t>(rng() % static_cast<uint32_t>(V));
        backend.reset_state();
        if (auto r = backend.forward(prompt, LogitsMode::Last, logits, options); !r) return Error{r.error()};
        states.push_back(backend.state());
    }
    std::vector<std::vector<double>> speeds(lengths.size());
    for (int round = 0; round < rounds; ++round)
        for (size_t k = 0; k < lengths.size(); ++k) {
            if (auto s = backend.set_state(states[k]); !s) return Error{s.error()};
            int32_t next = 0;
            const auto t0 = Clock::now();
            for (int64_t i = 0; i < n.generate; ++i) {
                if (auto r = backend.forward(std::span<const int32_t>(&next, 1), LogitsMode::Last, logits); !r)
                    return Error{r.error()};
                next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
            }
            speeds[k].push_back(static_cast<double>(n.generate) / seconds_since(t0));
        }
    json j;
    j["model"] = args.get("--model");
    j["backend"] = backend.name();
    j["prompt_tokens"] = lengths;
    j["generated_tokens_per_burst"] = n.generate;
    j["decode_tokens_per_second"] = speeds;
    std::vector<double> medians;
    for (auto v : speeds) {
        std::sort(v.begin(), v.end());
        medians.push_back(v[v.size() / 2]);
    }
    j["median_decode_tokens_per_second"] = medians;
    j["peak_resident_bytes"] = peak_resident_bytes();
    return j;
}

}  // namespace

int cmd_bench(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    auto args = Args::parse(
        argv, kModelFlags,
        with(kModelOptions, {"--prompt-tokens", "--generate", "--chunk", "--bandwidth-mib", "--flat", "--rounds"}));
    if (!args) return fail(err, "bench", args.error());
    BenchSizes n;
    auto prompt = args->get_int("--prompt-tokens", n.prompt);
    auto generate = args->get_int("--generate", n.generate);
    auto chunk = args->get_int("--chunk", n.chunk);
    auto bandwidth = args->get_int("--bandwidth-mib", n.bandwidth_mib);
    if (!prompt || !generate || !chunk || !bandwidth || *prompt < 1 || *generate < 0 || *chunk < 1 || *bandwidth < 0)
        return fail(err, "bench",
                    "--prompt-tokens and --chunk must be positive integers, --generate and --bandwidth-mib "
                    "non-negative");
    n.prompt = *prompt;
    n.generate = *generate;
    n.chunk = *chunk;
    n.bandwidth_mib = *bandwidth;
    if (args->has("--flat")) {
        auto lengths = parse_id_list(args->get("--flat"));
        auto rounds = args->get_int("--rounds", 5);
        if (!lengths || lengths->empty() || !rounds || *rounds < 1 || n.generate < 1 ||
            std::any_of(lengths->begin(), lengths->end(), [](int32_t v) { return v < 1; }))
            return fail(err, "bench", "--flat takes prompt lengths such as 100,10000, --rounds a positive count");
        auto j = bench_flat(*args, n, *lengths, static_cast<int>(*rounds), err);
        if (!j) return fail(err, "bench", j.error());
        out << j->dump() << "\n";
        return 0;
    }
    auto counts = thread_counts(*args);
    if (!counts) return fail(err, "bench", counts.error());
    for (int threads : *counts) {
        auto j = bench_once(*args, n, threads, err);
        if (!j) return fail(err, "bench", j.error());
        out << j->dump() << "\n" << std::flush;
    }
    return 0;
}

}  // namespace fm::cli
