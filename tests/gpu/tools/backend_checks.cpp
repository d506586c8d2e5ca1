// The CUDA backend against the CPU backend on the fixture checkpoints: logits token by token
// and in one pass, chunked prefill against token by token, prefill-then-decode against one pass,
// graph replay against direct launches, state round trips, greedy decoding on the device.

#include <algorithm>
#include <stdexcept>

#include "inference/backends/backend.h"
#include "inference/backends/cuda_backend.h"
#include "inference/checkpoint/config.h"
#include "inference/checkpoint/weights.h"
#include "tests/gpu/tools/device_util.h"
#include "tests/gpu/tools/gpu_checks.h"

namespace fm::gpucheck {
namespace {

struct Fixture {
    std::string name;
    std::string dir;  // under data_dir/checkpoints
    bool quantize = false;
};

std::shared_ptr<const ModelWeights> load(const std::string& data_dir, const Fixture& f) {
    LoadOptions o;
    o.quantize_4bit = f.quantize;
    auto w = load_weights(data_dir + "/checkpoints/" + f.dir, o);
    if (!w) throw std::runtime_error("loading " + f.dir + ": " + w.error());
    return *w;
}

std::unique_ptr<Backend> gpu(std::shared_ptr<const ModelWeights> w, bool precise = false, bool graph = true,
                             bool pdl = true) {
    CudaBackendOptions o;
    o.precise_prefill = precise;
    o.use_graph = graph;
    o.pdl = pdl;
    auto b = make_cuda_backend(std::move(w), o);
    if (!b) throw std::runtime_error(b.error());
    return std::move(*b);
}

std::vector<int32_t> prompt(int64_t V, size_t n) {
    Rng rng(2024);
    std::vector<int32_t> t(n);
    for (auto& id : t) id = static_cast<int32_t>(rng.bits() % static_cast<uint32_t>(V));
    return t;
}

std::vector<float> run(Backend& b, std::span<const int32_t> tokens, LogitsMode mode, int64_t chunk) {
    std::vector<float> logits;
    ForwardOptions o;
    o.chunk_size = chunk;
    auto r = b.forward(tokens, mode, logits, o);
    if (!r) throw std::runtime_error("forward: " + r.error());
    if (*r != static_cast<int64_t>(tokens.size())) throw std::runtime_error("forward consumed too few tokens");
    return logits;
}

Outcome all_of(std::initializer_list<Outcome> list) {
    Outcome out{true, 0.0, ""};
    for (const Outcome& o : list) {
        out.max_abs_err = std::max(out.max_abs_err, o.max_abs_err);
        if (!out.detail.empty()) out.detail += "; ";
        out.detail += o.detail;
        if (!o.pass) out.pass = false;
    }
    return out;
}

constexpr size_t kTokens = 40;

Outcome decode_vs_cpu(std::shared_ptr<const ModelWeights> w) {
    auto toks = prompt(w->config.vocab_size, kTokens);
    auto cpu = make_cpu_backend(w, 2);
    auto g = gpu(w);
    auto ref = run(*cpu, toks, LogitsMode::All, 1);
    auto got = run(*g, toks, LogitsMode::All, 1);
    RecurrentState rs = cpu->state(), gs = g->state();
    return all_of({compare(got, ref, 1e-3, 1e-3, "decode logits"), compare(gs.conv, rs.conv, 1e-4, 1e-3, "conv state"),
                   compare(gs.ssm, rs.ssm, 1e-3, 1e-3, "ssm state")});
}

Outcome prefill_vs_cpu(std::shared_ptr<const ModelWeights> w, bool precise) {
    auto toks = prompt(w->config.vocab_size, kTokens);
    auto cpu = make_cpu_backend(w, 2);
    auto g = gpu(w, precise);
    auto ref = run(*cpu, toks, LogitsMode::All, 64);
    auto got = run(*g, toks, LogitsMode::All, 64);
    // Fast prefill rounds the activations to bf16 before each product.
    const double tol = precise ? 2e-3 : 6e-2;
    return compare(got, ref, tol, tol, precise ? "precise prefill logits" : "fast prefill logits");
}

Outcome chunked_vs_token_by_token(std::shared_ptr<const ModelWeights> w) {
    auto toks = prompt(w->config.vocab_size, kTokens);
    auto g = gpu(w, true);
    auto one = run(*g, toks, LogitsMode::All, 1);
    g->reset_state();
    auto c7 = run(*g, toks, LogitsMode::All, 7);
    RecurrentState s7 = g->state();
    g->reset_state();
    auto c3 = run(*g, toks, LogitsMode::All, 3);
    g->reset_state();
    auto c64 = run(*g, toks, LogitsMode::All, 64);
    g->reset_state();
    run(*g, toks, LogitsMode::None, 1);
    RecurrentState s1 = g->state();
    return all_of({compare(c7, one, 2e-3, 2e-3, "chunk 7 (cuBLAS)"), compare(c3, one, 2e-3, 2e-3, "chunk 3 (gemv)"),
                   compare(c64, one, 2e-3, 2e-3, "one pass"), compare(s7.ssm, s1.ssm, 1e-3, 1e-3, "ssm state, chunk 7"),
                   compare(s7.conv, s1.conv, 1e-4, 1e-3, "conv state, chunk 7")});
}

Outcome prefill_then_decode(std::shared_ptr<const ModelWeights> w) {
    auto toks = prompt(w->config.vocab_size, kTokens);
    auto g = gpu(w, true);
    auto whole = run(*g, toks, LogitsMode::Last, 64);
    g->reset_state();
    std::span<const int32_t> all(toks);
    run(*g, all.first(kTokens - 1), LogitsMode::None, 16);
    auto last = run(*g, all.last(1), LogitsMode::Last, 16);
    auto cpu = make_cpu_backend(w, 2);
    auto ref = run(*cpu, toks, LogitsMode::Last, 64);
    return all_of({compare(last, whole, 2e-3, 2e-3, "prefill + decode vs one pass"),
                   compare(last, ref, 2e-3, 2e-3, "prefill + decode vs CPU")});
}

Outcome graph_vs_direct(std::shared_ptr<const ModelWeights> w) {
    auto toks = prompt(w->config.vocab_size, 12);
    auto a = gpu(w, false, true, true), b = gpu(w, false, false, true), c = gpu(w, false, true, false);
    auto la = run(*a, toks, LogitsMode::All, 1), lb = run(*b, toks, LogitsMode::All, 1),
         lc = run(*c, toks, LogitsMode::All, 1);
    // Same kernels in the same order: bit for bit.
    return all_of({compare(la, lb, 0.0, 0.0, "graph replay vs direct launches"),
                   compare(la, lc, 0.0, 0.0, "dependent launch vs plain"),
                   compare(a->state().ssm, b->state().ssm, 0.0, 0.0, "state, graph vs direct")});
}

Outcome state_round_trip(std::shared_ptr<const ModelWeights> w) {
    auto toks = prompt(w->config.vocab_size, kTokens);
    std::span<const int32_t> all(toks);
    auto g = gpu(w);
    auto fresh = run(*g, all.first(20), LogitsMode::All, 1);
    RecurrentState s = g->state();
    if (s.tokens_seen != 20) return Outcome{false, 0.0, "tokens_seen " + std::to_string(s.tokens_seen) + " != 20"};
    auto l1 = run(*g, all.last(20), LogitsMode::All, 1);
    if (Status st = g->set_state(s); !st) return Outcome{false, 0.0, "set_state: " + st.error()};
    if (g->state() != s) return Outcome{false, 0.0, "state() after set_state differs"};
    auto l2 = run(*g, all.last(20), LogitsMode::All, 1);
    g->reset_state();
    auto again = run(*g, all.first(20), LogitsMode::All, 1);
    RecurrentState wrong = s;
    wrong.ssm.pop_back();
    if (g->set_state(wrong)) return Outcome{false, 0.0, "set_state accepted a state of the wrong size"};
    auto cpu = make_cpu_backend(w, 2);
    run(*cpu, all.first(20), LogitsMode::None, 1);
    return all_of({compare(l2, l1, 0.0, 0.0, "after set_state"), compare(again, fresh, 0.0, 0.0, "after reset_state"),
                   compare(s.ssm, cpu->state().ssm, 1e-3, 1e-3, "ssm state vs CPU")});
}

Outcome greedy_on_device(std::shared_ptr<const ModelWeights> w) {
    auto a = gpu(w), b = gpu(w);
    const int32_t first = 7 % static_cast<int32_t>(w->config.vocab_size);
    auto ids = cuda_greedy_decode(*a, first, 10);
    if (!ids) return Outcome{false, 0.0, "cuda_greedy_decode: " + ids.error()};
    std::vector<int32_t> ref;
    int32_t tok = first;
    for (int k = 0; k < 10; ++k) {
        auto l = run(*b, std::span<const int32_t>(&tok, 1), LogitsMode::Last, 1);
        tok = static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
        ref.push_back(tok);
    }
    std::string got_s, ref_s;
    for (size_t i = 0; i < ref.size(); ++i) {
        got_s += std::to_string((*ids)[i]) + " ";
        ref_s += std::to_string(ref[i]) + " ";
    }
    return Outcome{*ids == ref, 0.0, "greedy ids [" + got_s + "] vs host argmax [" + ref_s + "]"};
}

Outcome misc(std::shared_ptr<const ModelWeights> w) {
    auto g = gpu(w);
    MemoryReport m = g->memory();
    std::vector<float> logits;
    const int32_t bad = static_cast<int32_t>(w->config.vocab_size);
    auto r = g->forward(std::span<const int32_t>(&bad, 1), LogitsMode::Last, logits);
    std::string why;
    if (m.weight_bytes <= 0) why += "no weight bytes; ";
    if (m.state_bytes != w->config.state_bytes()) why += "state bytes wrong; ";
    if (m.device_total_bytes <= 0 || m.device_free_bytes < 0) why += "no device memory figures; ";
    if (r) why += "an out-of-vocabulary token was accepted; ";
    if (g->name().rfind("cuda (", 0) != 0) why += "name '" + g->name() + "'; ";
    return Outcome{why.empty(), 0.0, why.empty() ? "memory report, bad token, name" : why};
}

void add(std::vector<Case>& v, const std::string& data_dir, const Fixture& f, const std::string& what,
         Outcome (*check)(std::shared_ptr<const ModelWeights>)) {
    v.push_back(
        Case{f.name + "/" + what, [data_dir, f, check] { return guarded([&] { return check(load(data_dir, f)); }); }});
}

}  // namespace

std::vector<Case> backend_cases(const std::string& data_dir) {
    std::vector<Case> v;
    const Fixture fixtures[] = {{"tiny-bf16", "tiny-bf16", false},
                                {"tiny-f32-sharded", "tiny-f32-sharded", false},
                                {"tiny-bnb-fp4", "tiny-bnb-fp4", false},
                                {"tiny-bf16-q4", "tiny-bf16", true}};
    for (const Fixture& f : fixtures) {
        add(v, data_dir, f, "decode_vs_cpu", decode_vs_cpu);
        add(v, data_dir, f, "prefill_precise_vs_cpu",
            [](std::shared_ptr<const ModelWeights> w) { return prefill_vs_cpu(w, true); });
        add(v, data_dir, f, "prefill_fast_vs_cpu",
            [](std::shared_ptr<const ModelWeights> w) { return prefill_vs_cpu(w, false); });
        add(v, data_dir, f, "chunked_vs_token_by_token", chunked_vs_token_by_token);
        add(v, data_dir, f, "prefill_then_decode", prefill_then_decode);
        add(v, data_dir, f, "graph_vs_direct", graph_vs_direct);
        add(v, data_dir, f, "state_round_trip", state_round_trip);
    }
    add(v, data_dir, fixtures[0], "greedy_on_device", greedy_on_device);
    add(v, data_dir, fixtures[0], "misc", misc);
    return v;
}

}  // namespace fm::gpucheck
