// bench_resume: what instant resume saves. Reopening a long conversation and answering, with
// the conversation's saved recurrent state and without it, printed as JSON.
//
//   bench_resume [--hidden 1024] [--intermediate 2048] [--layers 8] [--state 16] [--dt-rank 64]
//                [--turns 120] [--reply 24] [--answer 32] [--threads 0] [--repeat 3] [--dir DIR]
//
// Writes a random checkpoint of that shape with vocab 512 so the tiny-chat fixture's tokenizer
// and ChatML template fit it (copied next to it), builds a conversation of --turns exchanges
// (the user's messages are sentences, the replies are generated, --reply tokens each), saves
// the state after the last reply as a snapshot file, then measures, from a fresh session each
// time (the model stays loaded, as it does when the app switches conversations):
//   with_snapshot:    load the snapshot file + restore it + read the new message + answer
//   without_snapshot: read the whole transcript again + the new message + answer
// Both answer --answer tokens greedily with stop tokens ignored, so they decode the same
// amount. The resumed answer must equal, token for token, the answer of the session that built
// the conversation and never quit (exit status 2 if not). Best of --repeat runs.

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "inference/backends/backend.h"
#include "inference/chat/chat_format.h"
#include "inference/checkpoint/config.h"
#include "inference/checkpoint/weights.h"
#include "inference/model/model.h"
#include "inference/session/generation.h"
#include "inference/session/snapshot_file.h"
#include "inference/text/tokenizer.h"
#include "tests/tools/checkpoint_generator.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "bench_resume: %s\n", what.c_str());
    std::exit(1);
}

struct Run {
    double load_ms = 0;     // reading + checking the snapshot file (with_snapshot only)
    double restore_ms = 0;  // putting the state into the backend
    double prefill_ms = 0;
    double decode_ms = 0;
    double first_token_ms = 0;  // from the start (file load included) to the first answer token
    double total_ms = 0;
    int64_t prefilled_tokens = 0;
    int64_t prompt_tokens = 0;
    std::vector<int32_t> answer;
};

// Sentences cycled for the user's side: ordinary text the BPE tokenizer splits like prose.
const char* const kSentences[] = {
    "Tell me more about how falcons hunt over open water in the early morning.",
    "What would change if the river froze for a whole month in winter?",
    "Summarise what we said about the old lighthouse and the keeper's logbook.",
    "Could you compare the two routes over the mountains, the north one and the coast road?",
    "Why do state-space models keep a fixed-size memory instead of a growing cache?",
    "Write three short lines about rain on a tin roof at night.",
};

}  // namespace

int main(int argc, char** argv) {
    fm::testing::CheckpointSpec spec = fm::testing::bench_spec();
    spec.vocab = 512;  // the tiny-chat tokenizer's vocabulary
    int turns = 120, reply = 24, answer = 32, threads = 0, repeat = 3;
    std::string dir_arg;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) fail("missing value after " + a);
            return argv[++i];
        };
        if (fm::testing::set_shape_option(spec, a, [&] { return std::stoll(next()); })) continue;
        if (a == "--turns")
            turns = std::stoi(next());
        else if (a == "--reply")
            reply = std::stoi(next());
        else if (a == "--answer")
            answer = std::stoi(next());
        else if (a == "--threads")
            threads = std::stoi(next());
        else if (a == "--repeat")
            repeat = std::max(1, std::stoi(next()));
        else if (a == "--dir")
            dir_arg = next();
        else
            fail("unknown option " + a);
    }
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

    const bool temporary = dir_arg.empty();
    const fs::path dir =
        temporary ? fs::temp_directory_path() / ("bench_resume_" + std::to_string(::getpid())) : fs::path(dir_arg);
    fs::create_directories(dir);
    if (auto s = fm::testing::write_random_checkpoint(dir, spec); !s) fail(s.error());
    const fs::path fixture = fs::path(FM_TEST_DATA_DIR) / "tiny-chat";
    for (const char* name : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"}) {
        std::error_code ec;
        fs::copy_file(fixture / name, dir / name, fs::copy_options::overwrite_existing, ec);
        if (ec) fail(std::string("cannot copy ") + name + ": " + ec.message());
    }

    fm::ModelOptions options;
    options.backend = {fm::BackendKind::Cpu, false, threads};
    options.tokenizer = fm::TokenizerPolicy::Required;
    auto loaded = fm::Model::load(dir, options);
    if (!loaded) fail(loaded.error());
    fm::Model& model = **loaded;
    fm::Backend* backend = &model.backend();

    // 1. The conversation: every reply generated, so the history is what the model wrote.
    fm::GenerationParams gen;
    gen.sampling.temperature = 0;
    gen.max_new_tokens = reply;
    gen.ignore_stop_ids = true;
    fm::GenerationParams ask = gen;
    ask.max_new_tokens = answer;
    std::vector<fm::ChatMessage> history;
    const fs::path snapshot_path = dir / "conversation.fmstate";
    const auto build_start = Clock::now();
    double build_ms = 0, save_ms = 0;
    int64_t history_tokens = 0;
    std::vector<int32_t> reference;  // the answer of the session that never quit
    const std::string question = "Now, in one sentence: what was the first thing I asked you?";
    {
        auto session_ptr = model.new_session();
        fm::GenerationSession& session = *session_ptr;
        for (int t = 0; t < turns; ++t) {
            history.push_back(
                {"user", std::string(kSentences[t % std::size(kSentences)]) + " (" + std::to_string(t) + ")"});
            auto r = session.reply(history, gen);
            if (!r) fail(r.error());
            if (r->restarted) fail("building the conversation restarted: " + r->restart_reason);
            history.push_back({"assistant", r->text});
        }
        build_ms = ms_since(build_start);
        history_tokens = static_cast<int64_t>(session.context_tokens().size());
        const auto save_start = Clock::now();
        if (auto s =
                fm::save_snapshot_file(snapshot_path, {fm::snapshot_fingerprint(*backend), session.snapshot(), ""});
            !s)
            fail(s.error());
        save_ms = ms_since(save_start);
        // The same session goes on without quitting: what the resumed one must reproduce.
        auto next = history;
        next.push_back({"user", question});
        auto r = session.reply(next, ask);
        if (!r) fail(r.error());
        reference = r->tokens;
    }
    const int64_t snapshot_bytes = static_cast<int64_t>(fs::file_size(snapshot_path));
    history.push_back({"user", question});

    auto measure = [&](bool with_snapshot) {
        Run best;
        best.total_ms = 1e300;
        for (int r = 0; r < repeat; ++r) {
            Run run;
            backend->reset_state();
            auto session_ptr = model.new_session();
            fm::GenerationSession& session = *session_ptr;
            const auto start = Clock::now();
            if (with_snapshot) {
                auto t0 = Clock::now();
                auto stored = fm::load_snapshot_file(snapshot_path);
                if (!stored) fail(stored.error());
                if (stored->fingerprint != fm::snapshot_fingerprint(*backend)) fail("fingerprint mismatch");
                run.load_ms = ms_since(t0);
                t0 = Clock::now();
                if (auto s = session.restore(stored->snapshot); !s) fail(s.error());
                run.restore_ms = ms_since(t0);
            }
            fm::GenerationCallbacks callbacks;
            bool first = true;
            callbacks.on_token = [&](int32_t id, const std::string&) {
                if (first && id >= 0) {
                    run.first_token_ms = ms_since(start);
                    first = false;
                }
            };
            auto result = session.reply(history, ask, callbacks);
            if (!result) fail(result.error());
            if (result->restarted) fail("the session restarted: " + result->restart_reason);
            run.total_ms = ms_since(start);
            run.prefill_ms = result->prefill_seconds * 1000;
            run.decode_ms = result->decode_seconds * 1000;
            run.prefilled_tokens = result->prefilled_tokens;
            run.prompt_tokens = result->prompt_tokens;
            run.answer = result->tokens;
            if (run.total_ms < best.total_ms) best = run;
        }
        return best;
    };
    const Run with = measure(true);
    const Run without = measure(false);

    auto print_run = [](const char* name, const Run& r, bool last) {
        std::printf(
            "  \"%s\": {\"snapshot_load_ms\": %.2f, \"restore_ms\": %.2f, \"prefilled_tokens\": %lld, "
            "\"prompt_tokens\": %lld, \"prefill_ms\": %.1f, \"decode_ms\": %.1f, \"first_token_ms\": %.1f, "
            "\"reopen_and_answer_ms\": %.1f}%s\n",
            name, r.load_ms, r.restore_ms, static_cast<long long>(r.prefilled_tokens),
            static_cast<long long>(r.prompt_tokens), r.prefill_ms, r.decode_ms, r.first_token_ms, r.total_ms,
            last ? "" : ",");
    };
    std::printf("{\n");
    std::printf(
        "  \"model\": {\"hidden\": %lld, \"intermediate\": %lld, \"layers\": %lld, \"state\": %lld, \"vocab\": %lld, "
        "\"state_bytes\": %lld},\n",
        static_cast<long long>(spec.hidden), static_cast<long long>(spec.intermediate),
        static_cast<long long>(spec.layers), static_cast<long long>(spec.state), static_cast<long long>(spec.vocab),
        static_cast<long long>(model.config().state_bytes()));
    std::printf("  \"backend\": \"%s\", \"threads\": %d, \"repeat\": %d,\n", backend->name().c_str(), threads, repeat);
    std::printf(
        "  \"conversation\": {\"turns\": %d, \"messages\": %zu, \"history_tokens\": %lld, \"snapshot_bytes\": %lld, "
        "\"build_s\": %.1f, \"snapshot_save_ms\": %.1f},\n",
        turns, history.size(), static_cast<long long>(history_tokens), static_cast<long long>(snapshot_bytes),
        build_ms / 1000, save_ms);
    print_run("with_snapshot", with, false);
    print_run("without_snapshot", without, false);
    std::printf("  \"speedup\": %.1f,\n", without.total_ms / std::max(1e-9, with.total_ms));
    // Resumed = never quit, token for token. A re-read transcript is another token sequence
    // (generated tokens re-tokenize differently), so its answer may differ: not compared.
    std::printf("  \"resumed_answer_equals_never_quit\": %s\n}\n", with.answer == reference ? "true" : "false");

    if (temporary) {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    return with.answer == reference ? 0 : 2;
}
