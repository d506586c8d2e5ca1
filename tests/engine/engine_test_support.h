#pragma once
// Helpers the engine tests share: reproducible random data for the kernel tests, whole-file
// reads and writes for the tests that build broken checkpoints, the ids the CLI printed, and
// the address-space limit the hostile-input tests run under. Header-only.

#include <sys/resource.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fm::testing {

inline std::vector<float> random_vector(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

// The whole file's bytes ("" when it cannot be read).
inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// Replaces the file's bytes.
inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The last line of the CLI's output that is a JSON array (the ids it printed), parsed.
inline nlohmann::json last_json_line(const std::string& text) {
    std::istringstream lines(text);
    std::string line, last;
    while (std::getline(lines, line))
        if (!line.empty() && line[0] == '[') last = line;
    return nlohmann::json::parse(last);
}

#if defined(__SANITIZE_ADDRESS__)
#define FM_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FM_TEST_ASAN 1
#endif
#endif

#ifdef FM_TEST_ASAN
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif

// Limits this process's address space to 2 GiB, so that code sizing an allocation from a forged
// length fails in the test rather than succeeding on a big machine. Under AddressSanitizer,
// which reserves terabytes of address space, it does nothing. False when setrlimit refused.
inline bool limit_address_space_to_2_gib() {
    if (kAddressSanitizer) return true;
    rlimit limit{};
    limit.rlim_cur = limit.rlim_max = rlim_t{2} << 30;
    return setrlimit(RLIMIT_AS, &limit) == 0;
}

}  // namespace fm::testing
