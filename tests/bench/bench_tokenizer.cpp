// Tokenizer encode throughput on one core: ~1 MB of generated English prose, ~1 MB of source
// code (the project's own .cpp/.h files) and ~1 MB of text in every script (the strings of
// tests/data/tokenizers/falcon-tokenizer/hf_corpus.jsonl, repeated); and the time to load tokenizer.json (read,
// parse, build vocabulary and merges), best and median of --loads runs. Prints JSON.
// Hugging Face's load time of the same file, for comparison: tests/tools/reference/hf_load_time.mjs.
//
// Usage: bench_tokenizer [--tokenizer DIR] [--source DIR] [--mb N] [--loads N]
//   --tokenizer  folder with tokenizer.json (default tests/data/tokenizers/falcon-tokenizer)
//   --source     folder whose .cpp/.h files make the code corpus (default inference/)
//   --mb         corpus size in MB (default 1)
//   --loads      load runs (default 10)

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "inference/text/tokenizer.h"

namespace fs = std::filesystem;

namespace {

const fs::path kRepo = fs::path(__FILE__).parent_path().parent_path().parent_path();

// Prose from word lists with a fixed seed; about a fifth of the words are made-up ones built
// from syllables, and numbers vary, so the word cache sees a realistic mix of hits and misses.
std::string make_prose(size_t bytes) {
    static const char* const kNouns[] = {
        "river",   "mountain", "engineer", "library",  "window",  "garden",   "question", "answer",  "teacher",
        "village", "machine",  "history",  "morning",  "evening", "kitchen",  "student",  "market",  "forest",
        "letter",  "journey",  "harbor",   "painting", "summer",  "winter",   "council",  "company", "signal",
        "bridge",  "castle",   "doctor",   "pattern",  "century", "language", "memory",   "network", "problem"};
    static const char* const kVerbs[] = {"walked",     "described",  "built",     "measured",  "remembered", "opened",
                                         "carried",    "discovered", "explained", "followed",  "painted",    "repaired",
                                         "watched",    "visited",    "wrote",     "collected", "changed",    "answered",
                                         "considered", "believed",   "organized", "returned",  "studied",    "noticed"};
    static const char* const kAdjectives[] = {"quiet",   "ancient", "bright",  "careful", "narrow", "heavy",
                                              "gentle",  "curious", "broken",  "distant", "golden", "simple",
                                              "strange", "patient", "crowded", "silent",  "modern", "fragile"};
    static const char* const kAdverbs[] = {"slowly",   "quickly", "rarely", "often",  "carefully", "finally",
                                           "suddenly", "almost",  "never",  "always", "eventually"};
    static const char* const kNames[] = {"Alice",   "Bruno",  "Chiara", "Dmitri", "Esther",  "Farid", "Greta",
                                         "Hiroshi", "Ingrid", "Jamal",  "Katya",  "Lorenzo", "Mbali"};
    static const char* const kSyllables[] = {"ka", "lo", "mir", "ten", "dra", "vos", "qui", "bel", "sor",
                                             "an", "ex", "ul",  "tha", "ron", "pe",  "gi",  "zu",  "wen"};
    static const char* const kLinks[] = {"and", "but", "because", "while", "although", "so", "after"};
    std::mt19937 rng(12345);
    auto pick = [&](const auto& arr) { return std::string(arr[rng() % std::size(arr)]); };
    auto word = [&](const auto& arr) {
        if (rng() % 5 == 0) {
            std::string w;
            for (unsigned k = 0, n = 2 + rng() % 3; k < n; ++k) w += pick(kSyllables);
            return w;
        }
        return pick(arr);
    };
    std::string out;
    while (out.size() < bytes) {
        int sentences = 3 + static_cast<int>(rng() % 5);
        for (int s = 0; s < sentences; ++s) {
            std::string sent =
                "The " + pick(kAdjectives) + " " + word(kNouns) + " " + word(kVerbs) + " the " + word(kNouns);
            switch (rng() % 5) {
            case 0: sent += " " + std::to_string(rng() % 2000) + " times"; break;
            case 1:
                sent += ", " + pick(kLinks) + " " + pick(kNames) + " " + pick(kAdverbs) + " " + word(kVerbs) + " it";
                break;
            case 2: sent += " in " + std::to_string(1800 + rng() % 225); break;
            case 3: sent += " (" + pick(kAdverbs) + ")"; break;
            default: sent += " near the " + pick(kAdjectives) + " " + word(kNouns); break;
            }
            sent += (rng() % 8 == 0) ? "? " : (rng() % 10 == 0) ? "! " : ". ";
            if (s == 0 && rng() % 3 == 0)
                sent = pick(kNames) + "'s " + word(kNouns) + " was " + pick(kAdjectives) + ". " + sent;
            out += sent;
        }
        out += "\n\n";
    }
    out.resize(bytes);
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0x80)) out.pop_back();
    return out;
}

std::string make_code(const fs::path& dir, size_t bytes) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        auto ext = it->path().extension();
        if (it->is_regular_file() && (ext == ".cpp" || ext == ".h")) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    std::string all;
    for (const auto& f : files) {
        if (f.filename() == "unicode_tables.cpp") continue;  // generated tables, not typical code
        std::ifstream in(f, std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        all += ss.str();
    }
    if (all.empty()) return all;
    std::string out;
    while (out.size() < bytes) out += all;
    out.resize(bytes);
    // Do not cut a UTF-8 character in half.
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
    if (!out.empty() && (static_cast<unsigned char>(out.back()) & 0x80)) out.pop_back();
    return out;
}

// The differential corpus's strings (every Unicode 16 block), one a line, repeated to `bytes`.
std::string make_scripts(const fs::path& corpus, size_t bytes) {
    std::ifstream in(corpus);
    std::string all, line;
    while (std::getline(in, line)) {
        size_t at = line.find("\"text\":\"");
        if (at == std::string::npos) continue;
        // The generator writes the text first; decode the JSON string by hand (JSON.stringify
        // escapes only \" \\ and control characters).
        std::string text;
        for (size_t i = at + 8; i < line.size() && line[i] != '"'; ++i) {
            if (line[i] != '\\') {
                text += line[i];
                continue;
            }
            char e = line[++i];
            if (e == 'n')
                text += '\n';
            else if (e == 't')
                text += '\t';
            else if (e == 'r')
                text += '\r';
            else if (e == 'b')
                text += '\b';
            else if (e == 'f')
                text += '\f';
            else if (e == 'u') {
                text += static_cast<char>(std::stoi(line.substr(i + 1, 4), nullptr, 16) & 0x7F);
                i += 4;
            } else
                text += e;
        }
        all += text;
        all += '\n';
    }
    if (all.empty()) return all;
    std::string out;
    while (out.size() + all.size() <= bytes) out += all;
    return out.empty() ? all : out;
}

struct Run {
    double mb_per_s = 0, warm_mb_per_s = 0;
    size_t tokens = 0;
    bool ok = false;
    std::string error;
};

Run measure(const fs::path& tokenizer_dir, const std::string& text) {
    Run r;
    auto tok = fm::Tokenizer::load_from_dir(tokenizer_dir);  // fresh tokenizer: empty cache
    if (!tok) {
        r.error = tok.error();
        return r;
    }
    for (int pass = 0; pass < 2; ++pass) {
        auto t0 = std::chrono::steady_clock::now();
        auto ids = (*tok)->encode(text, false);
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!ids) {
            r.error = ids.error();
            return r;
        }
        r.tokens = ids->size();
        (pass == 0 ? r.mb_per_s : r.warm_mb_per_s) = static_cast<double>(text.size()) / 1e6 / s;
    }
    r.ok = true;
    return r;
}

struct Load {
    double best_s = 0, median_s = 0;
    std::string error;
};

Load measure_load(const fs::path& tokenizer_dir, int runs) {
    Load l;
    std::vector<double> times;
    for (int k = 0; k < std::max(1, runs); ++k) {
        auto t0 = std::chrono::steady_clock::now();
        auto tok = fm::Tokenizer::load_from_dir(tokenizer_dir);
        times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        if (!tok) {
            l.error = tok.error();
            return l;
        }
    }
    std::sort(times.begin(), times.end());
    l.best_s = times.front();
    l.median_s = times[times.size() / 2];
    return l;
}

}  // namespace

int main(int argc, char** argv) {
    fs::path tokenizer_dir = kRepo / "tests/data/tokenizers/falcon-tokenizer";
    fs::path source_dir = kRepo / "inference";
    double mb = 1.0;
    int loads = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--tokenizer"))
            tokenizer_dir = argv[i + 1];
        else if (!std::strcmp(argv[i], "--source"))
            source_dir = argv[i + 1];
        else if (!std::strcmp(argv[i], "--mb"))
            mb = std::atof(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--loads"))
            loads = std::atoi(argv[i + 1]);
        else {
            std::fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    auto bytes = static_cast<size_t>(std::max(0.01, mb) * 1e6);
    std::string prose = make_prose(bytes);
    std::string code = make_code(source_dir, bytes);
    if (code.empty()) {
        std::fprintf(stderr, "no .cpp/.h files under %s\n", source_dir.string().c_str());
        return 1;
    }
    Load load = measure_load(tokenizer_dir, loads);
    if (!load.error.empty()) {
        std::fprintf(stderr, "error: %s\n", load.error.c_str());
        return 1;
    }
    Run p = measure(tokenizer_dir, prose);
    Run c = measure(tokenizer_dir, code);
    if (!p.ok || !c.ok) {
        std::fprintf(stderr, "error: %s\n", (p.ok ? c.error : p.error).c_str());
        return 1;
    }
    std::string scripts = make_scripts(kRepo / "tests/data/tokenizers/falcon-tokenizer/hf_corpus.jsonl", bytes);
    Run u = measure(tokenizer_dir, scripts);
    if (!u.ok) {
        std::fprintf(stderr, "error: %s\n", u.error.c_str());
        return 1;
    }
    std::printf(
        "{\n  \"tokenizer\": \"%s\",\n"
        "  \"prose\": {\"bytes\": %zu, \"tokens\": %zu, \"encode_mb_per_s\": %.2f, \"warm_cache_mb_per_s\": %.2f},\n"
        "  \"code\": {\"bytes\": %zu, \"tokens\": %zu, \"encode_mb_per_s\": %.2f, \"warm_cache_mb_per_s\": %.2f},\n"
        "  \"scripts\": {\"bytes\": %zu, \"tokens\": %zu, \"encode_mb_per_s\": %.2f, \"warm_cache_mb_per_s\": %.2f},\n"
        "  \"load\": {\"runs\": %d, \"best_s\": %.4f, \"median_s\": %.4f},\n"
        "  \"threads\": 1\n}\n",
        tokenizer_dir.string().c_str(), prose.size(), p.tokens, p.mb_per_s, p.warm_mb_per_s, code.size(), c.tokens,
        c.mb_per_s, c.warm_mb_per_s, scripts.size(), u.tokens, u.mb_per_s, u.warm_mb_per_s, std::max(1, loads),
        load.best_s, load.median_s);
    return 0;
}
