// Chat-template render speed on one core: every template of tests/data/template_corpus with
// every conversation it renders (as a prompt is rendered each turn), plus one long chat (200
// messages) through a few widely used templates. Prints JSON, one object.
//
// Usage: bench_template [--seconds S] [--passes N] [--corpus DIR]
//   --seconds  minimum time per measurement (default 0.5)
//   --passes   exactly N passes per measurement instead (for instruction counts: callgrind)
//   --corpus   folder with templates.json and conversations.json (default tests/data/template_corpus)
//
// Only ChatTemplate::parse and render_ordered(context) are used, so the same file builds
// against older versions of the engine (to compare before and after a change).

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "inference/chat/chat_template.h"

namespace fs = std::filesystem;
using ordered_json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

namespace {

const fs::path kRepo = fs::path(__FILE__).parent_path().parent_path().parent_path();

ordered_json read_json(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buf;
    buf << in.rdbuf();
    return ordered_json::parse(buf.str());
}

ordered_json context_of(const ordered_json& conversation, const ordered_json& special_tokens) {
    ordered_json context = special_tokens;
    context["messages"] = conversation.at("messages");
    context["tools"] = conversation.value("tools", ordered_json());
    context["documents"] = conversation.value("documents", ordered_json());
    context["add_generation_prompt"] = conversation.at("add_generation_prompt");
    const ordered_json variables = conversation.value("variables", ordered_json::object());
    for (const auto& [key, value] : variables.items()) context[key] = value;
    return context;
}

struct Job {
    const fm::ChatTemplate* tpl;
    ordered_json context;
};

// Runs all jobs over and over for at least `seconds`; returns microseconds per render and the
// bytes rendered per pass.
double time_jobs(const std::vector<Job>& jobs, double seconds, size_t exact_passes, size_t* bytes_per_pass,
                 size_t* renders) {
    size_t passes = 0, bytes = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    do {
        bytes = 0;
        for (const Job& job : jobs) {
            auto out = job.tpl->render_ordered(job.context);
            bytes += out ? out->size() : 0;
        }
        ++passes;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (exact_passes ? passes < exact_passes : elapsed < seconds);
    *bytes_per_pass = bytes;
    *renders = passes * jobs.size();
    return elapsed * 1e6 / static_cast<double>(*renders);
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = 0.5;
    size_t passes = 0;
    fs::path corpus = kRepo / "tests/data/template_corpus";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
        if (!std::strcmp(argv[i], "--passes")) passes = static_cast<size_t>(std::atol(argv[i + 1]));
        if (!std::strcmp(argv[i], "--corpus")) corpus = argv[i + 1];
    }
    const ordered_json templates = read_json(corpus / "templates.json");
    const ordered_json conversations = read_json(corpus / "conversations.json");

    // Parse speed: every template, parsed again and again.
    std::vector<std::string> sources;
    size_t source_bytes = 0;
    for (const auto& [name, spec] : templates.items()) {
        sources.push_back(spec.at("template").get<std::string>());
        source_bytes += sources.back().size();
    }
    size_t parses = 0, parse_passes = 0;
    const auto parse_start = Clock::now();
    double parse_elapsed = 0;
    do {
        for (const auto& s : sources) parses += fm::ChatTemplate::parse(s).ok() ? 1 : 0;
        ++parse_passes;
        parse_elapsed = std::chrono::duration<double>(Clock::now() - parse_start).count();
    } while (passes ? parse_passes < passes : parse_elapsed < seconds);

    // Every (template, conversation) pair that renders.
    // (Templates an older engine cannot parse are left out; the counts say how many remain.)
    std::vector<std::unique_ptr<fm::ChatTemplate>> parsed;
    std::vector<Job> corpus_jobs, long_jobs;
    for (const auto& [name, spec] : templates.items()) {
        auto parsed_one = fm::ChatTemplate::parse(spec.at("template").get<std::string>());
        if (!parsed_one) continue;
        parsed.push_back(std::make_unique<fm::ChatTemplate>(std::move(*parsed_one)));
        const fm::ChatTemplate* tpl = parsed.back().get();
        for (const auto& [conv_name, conversation] : conversations.items()) {
            ordered_json context = context_of(conversation, spec.at("special_tokens"));
            if (tpl->render_ordered(context)) corpus_jobs.push_back({tpl, std::move(context)});
        }
        // A long chat: 200 alternating messages after a system prompt.
        if (name == "llama3_1" || name == "qwen2_5" || name == "qwen3" || name == "mistral_nemo" || name == "gemma3" ||
            name == "deepseek_r1_0528") {
            ordered_json long_chat = {{"add_generation_prompt", true}, {"messages", ordered_json::array()}};
            long_chat["messages"].push_back({{"role", "system"}, {"content", "You are a helpful assistant."}});
            for (int i = 0; i < 200; ++i)
                long_chat["messages"].push_back({{"role", i % 2 ? "assistant" : "user"},
                                                 {"content", "Message " + std::to_string(i) +
                                                                 ": a sentence or two of ordinary chat text, "
                                                                 "long enough to look like what people send."}});
            ordered_json context = context_of(long_chat, spec.at("special_tokens"));
            if (tpl->render_ordered(context)) long_jobs.push_back({tpl, std::move(context)});
        }
    }

    size_t corpus_bytes = 0, corpus_renders = 0, long_bytes = 0, long_renders = 0;
    const double corpus_us = time_jobs(corpus_jobs, seconds, passes, &corpus_bytes, &corpus_renders);
    const double long_us = time_jobs(long_jobs, seconds, passes, &long_bytes, &long_renders);

    ordered_json out = {
        {"bench", "template"},
        {"templates", templates.size()},
        {"templates_parsed", parsed.size()},
        {"parse_us_per_template", parse_elapsed * 1e6 / static_cast<double>(parses)},
        {"parse_mb_per_s", static_cast<double>(source_bytes) * static_cast<double>(parses) /
                               static_cast<double>(sources.size()) / parse_elapsed / 1e6},
        {"corpus_renders", corpus_jobs.size()},
        {"corpus_us_per_render", corpus_us},
        {"corpus_mb_per_s", static_cast<double>(corpus_bytes) / static_cast<double>(corpus_jobs.size()) / corpus_us},
        {"long_chat_templates", long_jobs.size()},
        {"long_chat_messages", 201},
        {"long_chat_us_per_render", long_us},
        {"long_chat_mb_per_s", static_cast<double>(long_bytes) / static_cast<double>(long_jobs.size()) / long_us},
    };
    std::printf("%s\n", out.dump().c_str());
    return corpus_jobs.empty() ? 1 : 0;
}
