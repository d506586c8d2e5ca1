// A small driver for the fuzz targets where libFuzzer is not available (gcc, the ci and asan
// presets), so every build runs a real smoke test of every target. It replays the seed corpus,
// then runs a deterministic mutation loop of its own: inputs made from the seeds by a seeded
// pseudo-random generator (bit flips, interesting bytes and numbers, dictionary words,
// insertions, deletions, copies and splices, stacked), until -runs or -max_total_time is
// reached. No coverage feedback: it is a smoke test, the long runs use libFuzzer (README.md).
//
// Command line (libFuzzer's spelling; other -flags are ignored):
//   target [-runs=N] [-max_total_time=S] [-seed=N] [-max_len=N] [-timeout=S]
//          [-artifact_prefix=P] corpus-folder-or-file...
// Folders are read as seed corpora; if only files are named, each is run once (reproduction).
// A crash, abort, sanitizer report or an input running longer than -timeout seconds writes the
// input to P + "crash-input" and ends the process with a failure.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define FM_FUZZ_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FM_FUZZ_SANITIZED 1
#endif
#endif
#ifdef FM_FUZZ_SANITIZED
#include <sanitizer/common_interface_defs.h>
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using Bytes = std::vector<uint8_t>;

// The input being run, for the crash handlers (written before each run, read only on death).
const Bytes* g_current = nullptr;
uint64_t g_iteration = 0;
std::string g_artifact = "crash-input";

void write_all(int fd, const void* data, size_t size) {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t n = ::write(fd, p, size);
        if (n <= 0) return;
        p += n;
        size -= static_cast<size_t>(n);
    }
}

void write_str(const char* s) {
    write_all(2, s, std::strlen(s));
}

void write_number(uint64_t v) {
    char buf[24];
    int i = sizeof buf;
    do {
        buf[--i] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v > 0);
    write_all(2, buf + i, sizeof buf - static_cast<size_t>(i));
}

// Async-signal-safe: only open/write/close.
void dump_current_input() {
    if (!g_current) return;
    int fd = ::open(g_artifact.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        write_all(fd, g_current->data(), g_current->size());
        ::close(fd);
    }
    write_str("\nstandalone fuzz: input ");
    write_number(g_iteration);
    write_str(" (");
    write_number(g_current->size());
    write_str(" bytes) failed; written to ");
    write_str(g_artifact.c_str());
    write_str("\n");
    g_current = nullptr;
}

void on_signal(int sig) {
    if (sig == SIGALRM) write_str("\nstandalone fuzz: timeout\n");
    dump_current_input();
    ::signal(sig == SIGALRM ? SIGABRT : sig, SIG_DFL);
    ::raise(sig == SIGALRM ? SIGABRT : sig);
}

void install_handlers() {
    for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGALRM}) ::signal(sig, on_signal);
#ifdef FM_FUZZ_SANITIZED
    __sanitizer_set_death_callback(dump_current_input);
#endif
}

// splitmix64: small, fast and the same everywhere.
struct Rng {
    uint64_t state;
    uint64_t next() {
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }
};

// Words of the formats the targets read (JSON, Jinja, Markdown, safetensors' header, the
// chat tokens), inserted whole.
constexpr std::string_view kDictionary[] = {
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "\\",
    "\\u0000",
    "\\ud800",
    "null",
    "true",
    "false",
    "NaN",
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "{%-",
    "-%}",
    " for ",
    " in ",
    " endfor ",
    " if ",
    " endif ",
    " set ",
    "|",
    "~",
    "*",
    "**",
    "+",
    "(",
    ")",
    ".",
    "[::-1]",
    "messages",
    "content",
    "role",
    "range(999999)",
    "loop.index",
    "namespace(",
    "join",
    "replace",
    "split",
    "indent",
    "<|im_start|>",
    "<|im_end|>",
    "</think>",
    "<s>",
    "</s>",
    "\n",
    "```",
    "~~~",
    "    ",
    "# ",
    "\t",
    "\xc3\xa9",
    "\xf0\x9f\x98\x80",
    "\xff",
    "\xc0",
    "dtype",
    "shape",
    "data_offsets",
    "F32",
    "U8",
    "BF16",
    "weight_map",
    "__metadata__",
    "vocab",
    "merges",
    "added_tokens",
    "chat_template",
    "quant_type",
    "nf4",
    "blocksize",
    "nested_blocksize",
    "conversations",
    "timestamp",
};
constexpr std::string_view kNumbers[] = {
    "-1",         "0",   "1e999", "-1e999", "9223372036854775807", "18446744073709551616", "4294967296",
    "2147483648", "1.5", "-0",    "1e-400"};

constexpr uint8_t kInterestingBytes[] = {0,   1,   0x7f, 0x80, 0xff, '0', '9',  '"',
                                         '{', '}', '[',  ']',  ',',  ':', '\\', '\n'};

void mutate_once(Bytes& b, const std::vector<Bytes>& pool, Rng& rng, size_t max_len) {
    switch (rng.below(b.empty() ? 3 : 10)) {
    case 0: {  // insert a dictionary word or number
        std::string_view w = rng.below(4) == 0 ? kNumbers[rng.below(std::size(kNumbers))]
                                               : kDictionary[rng.below(std::size(kDictionary))];
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(rng.below(b.size() + 1)), w.begin(), w.end());
        break;
    }
    case 1: {  // insert random bytes
        size_t n = 1 + rng.below(8), at = rng.below(b.size() + 1);
        Bytes r(n);
        for (auto& c : r) c = static_cast<uint8_t>(rng.next());
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), r.begin(), r.end());
        break;
    }
    case 2: {  // splice in a chunk of another input
        const Bytes& other = pool[rng.below(pool.size())];
        if (other.empty()) break;
        size_t from = rng.below(other.size()), n = 1 + rng.below(std::min<size_t>(other.size() - from, 256));
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(rng.below(b.size() + 1)),
                 other.begin() + static_cast<std::ptrdiff_t>(from),
                 other.begin() + static_cast<std::ptrdiff_t>(from + n));
        break;
    }
    case 3: b[rng.below(b.size())] ^= static_cast<uint8_t>(1u << rng.below(8)); break;
    case 4: b[rng.below(b.size())] = static_cast<uint8_t>(rng.next()); break;
    case 5: b[rng.below(b.size())] = kInterestingBytes[rng.below(std::size(kInterestingBytes))]; break;
    case 6: {  // erase a range
        size_t at = rng.below(b.size()), n = 1 + rng.below(std::min<size_t>(b.size() - at, 64));
        b.erase(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + n));
        break;
    }
    case 7: {  // copy a range of itself elsewhere (repetition, nesting)
        size_t from = rng.below(b.size()), n = 1 + rng.below(std::min<size_t>(b.size() - from, 128));
        Bytes chunk(b.begin() + static_cast<std::ptrdiff_t>(from), b.begin() + static_cast<std::ptrdiff_t>(from + n));
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(rng.below(b.size() + 1)), chunk.begin(), chunk.end());
        break;
    }
    case 8: {  // replace a run of digits with an interesting number
        size_t at = rng.below(b.size());
        while (at < b.size() && !(b[at] >= '0' && b[at] <= '9')) ++at;
        if (at == b.size()) break;
        size_t end = at;
        while (end < b.size() && b[end] >= '0' && b[end] <= '9') ++end;
        std::string_view w = kNumbers[rng.below(std::size(kNumbers))];
        b.erase(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(end));
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), w.begin(), w.end());
        break;
    }
    default: b.resize(rng.below(b.size())); break;  // truncate
    }
    if (b.size() > max_len) b.resize(max_len);
}

bool read_file(const std::filesystem::path& path, Bytes& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return true;
}

void run_one(const Bytes& input, unsigned timeout_s) {
    g_current = &input;
    if (timeout_s) ::alarm(timeout_s);
    LLVMFuzzerTestOneInput(input.data(), input.size());
    if (timeout_s) ::alarm(0);
    g_current = nullptr;
}

bool flag(std::string_view arg, std::string_view name, std::string& value) {
    if (arg.size() <= name.size() + 2 || arg.substr(1, name.size()) != name || arg[name.size() + 1] != '=')
        return false;
    value = std::string(arg.substr(name.size() + 2));
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    namespace fs = std::filesystem;
    uint64_t runs = UINT64_MAX, seed = 1;
    double max_seconds = 0;
    size_t max_len = 0;
    unsigned timeout_s = 0;
    std::vector<fs::path> folders, files;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        std::string v;
        if (flag(arg, "runs", v))
            runs = std::strtoull(v.c_str(), nullptr, 10);
        else if (flag(arg, "max_total_time", v))
            max_seconds = std::strtod(v.c_str(), nullptr);
        else if (flag(arg, "seed", v))
            seed = std::strtoull(v.c_str(), nullptr, 10);
        else if (flag(arg, "max_len", v))
            max_len = std::strtoull(v.c_str(), nullptr, 10);
        else if (flag(arg, "timeout", v))
            timeout_s = static_cast<unsigned>(std::strtoul(v.c_str(), nullptr, 10));
        else if (flag(arg, "artifact_prefix", v))
            g_artifact = v + "crash-input";
        else if (!arg.empty() && arg[0] == '-')
            continue;  // a libFuzzer flag this driver does not use
        else if (fs::is_directory(arg))
            folders.emplace_back(arg);
        else
            files.emplace_back(arg);
    }
    install_handlers();

    if (folders.empty()) {  // reproduce: run each named file once
        for (const auto& f : files) {
            Bytes input;
            if (!read_file(f, input)) {
                std::fprintf(stderr, "standalone fuzz: cannot read %s\n", f.c_str());
                return 2;
            }
            run_one(input, timeout_s);
            std::fprintf(stderr, "standalone fuzz: ran %s (%zu bytes)\n", f.c_str(), input.size());
        }
        return 0;
    }

    std::vector<Bytes> pool;
    for (const auto& folder : folders) {
        std::vector<fs::path> entries;
        for (const auto& e : fs::directory_iterator(folder))
            if (e.is_regular_file()) entries.push_back(e.path());
        std::sort(entries.begin(), entries.end());  // the same order everywhere: deterministic runs
        for (const auto& e : entries) {
            Bytes input;
            if (read_file(e, input)) pool.push_back(std::move(input));
        }
    }
    if (pool.empty()) pool.emplace_back();
    size_t largest = 0;
    for (const auto& p : pool) largest = std::max(largest, p.size());
    if (max_len == 0) max_len = std::max<size_t>(4096, largest);

    const auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    for (const auto& input : pool) {
        run_one(input, timeout_s);
        ++g_iteration;
    }
    const size_t seeds = pool.size();

    // Mutants of the seeds and, now and then, of earlier mutants (kept in a bounded pool), so
    // mutations stack over generations.
    constexpr size_t kPoolCap = 256;
    Rng rng{seed};
    uint64_t mutated = 0;
    while (g_iteration < runs && (max_seconds <= 0 || elapsed() < max_seconds)) {
        Bytes input = pool[rng.below(pool.size())];
        const size_t n = size_t{1} << rng.below(4);
        for (size_t k = 0; k < n; ++k) mutate_once(input, pool, rng, max_len);
        run_one(input, timeout_s);
        ++g_iteration;
        ++mutated;
        if (rng.below(16) == 0) {
            if (pool.size() < kPoolCap)
                pool.push_back(std::move(input));
            else if (seeds < kPoolCap)
                pool[seeds + rng.below(kPoolCap - seeds)] = std::move(input);
        }
    }
    std::fprintf(stderr, "standalone fuzz: %zu seeds and %llu mutated inputs in %.1f s (seed %llu), no failure\n",
                 seeds, static_cast<unsigned long long>(mutated), elapsed(), static_cast<unsigned long long>(seed));
    return 0;
}
