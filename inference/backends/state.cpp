#include "inference/backends/state.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "inference/checkpoint/config.h"

namespace fm {
namespace {

constexpr char kMagic[4] = {'F', 'M', 'S', 'T'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 4 + 4 + 4 * 8 + 8;  // magic, version, 4 dims, tokens_seen

std::array<uint32_t, 256> make_crc_table() {
    std::array<uint32_t, 256> table{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    return table;
}

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
    uint8_t bytes[sizeof(T)];
    std::memcpy(bytes, &v, sizeof(T));  // the project targets little-endian machines (x86-64, arm64)
    out.insert(out.end(), bytes, bytes + sizeof(T));
}

template <typename T>
T get(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

}  // namespace

uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc) {
    static const std::array<uint32_t, 256> table = make_crc_table();
    crc = ~crc;
    for (size_t i = 0; i < size; ++i) crc = table[(crc ^ data[i]) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

RecurrentState RecurrentState::zeros(const ModelConfig& c) {
    RecurrentState s;
    s.layers = c.num_layers;
    s.inner = c.intermediate_size;
    s.conv_width = c.conv_kernel - 1;
    s.state_size = c.state_size;
    s.conv.assign(static_cast<size_t>(s.layers * s.inner * s.conv_width), 0.0f);
    s.ssm.assign(static_cast<size_t>(s.layers * s.inner * s.state_size), 0.0f);
    return s;
}

bool RecurrentState::matches(const ModelConfig& c) const {
    return layers == c.num_layers && inner == c.intermediate_size && conv_width == c.conv_kernel - 1 &&
           state_size == c.state_size && conv.size() == static_cast<size_t>(layers * inner * conv_width) &&
           ssm.size() == static_cast<size_t>(layers * inner * state_size);
}

void RecurrentState::clear() {
    std::fill(conv.begin(), conv.end(), 0.0f);
    std::fill(ssm.begin(), ssm.end(), 0.0f);
    tokens_seen = 0;
}

std::vector<uint8_t> RecurrentState::serialize() const {
    std::vector<uint8_t> out;
    out.reserve(kHeaderBytes + static_cast<size_t>(bytes()) + 4);
    for (char c : kMagic) out.push_back(static_cast<uint8_t>(c));  // (insert trips a GCC 12 false warning)
    put<uint32_t>(out, kVersion);
    put<int64_t>(out, layers);
    put<int64_t>(out, inner);
    put<int64_t>(out, conv_width);
    put<int64_t>(out, state_size);
    put<uint64_t>(out, tokens_seen);
    const auto* c = reinterpret_cast<const uint8_t*>(conv.data());
    out.insert(out.end(), c, c + conv.size() * sizeof(float));
    const auto* s = reinterpret_cast<const uint8_t*>(ssm.data());
    out.insert(out.end(), s, s + ssm.size() * sizeof(float));
    put<uint32_t>(out, crc32(out.data(), out.size()));
    return out;
}

Result<RecurrentState> RecurrentState::deserialize(std::span<const uint8_t> bytes) {
    if (bytes.size() < kHeaderBytes + 4)
        return Error{"state snapshot is truncated (" + std::to_string(bytes.size()) + " bytes)"};
    if (std::memcmp(bytes.data(), kMagic, 4) != 0) return Error{"not a state snapshot (bad magic)"};
    const uint32_t version = get<uint32_t>(bytes.data() + 4);
    if (version != kVersion) return Error{"state snapshot version " + std::to_string(version) + " is not supported"};
    RecurrentState s;
    s.layers = get<int64_t>(bytes.data() + 8);
    s.inner = get<int64_t>(bytes.data() + 16);
    s.conv_width = get<int64_t>(bytes.data() + 24);
    s.state_size = get<int64_t>(bytes.data() + 32);
    s.tokens_seen = get<uint64_t>(bytes.data() + 40);
    for (int64_t d : {s.layers, s.inner, s.conv_width, s.state_size})
        if (d < 0 || d > (int64_t{1} << 24)) return Error{"state snapshot has an implausible dimension"};
    // Each dimension fits 24 bits, their products need not fit 64: every step is checked, so a
    // forged header is refused instead of wrapping around to a size that happens to match.
    uint64_t cells = 0, conv_n = 0, ssm_n = 0, floats = 0, payload = 0, expected = 0;
    const bool overflow =
        __builtin_mul_overflow(static_cast<uint64_t>(s.layers), static_cast<uint64_t>(s.inner), &cells) ||
        __builtin_mul_overflow(cells, static_cast<uint64_t>(s.conv_width), &conv_n) ||
        __builtin_mul_overflow(cells, static_cast<uint64_t>(s.state_size), &ssm_n) ||
        __builtin_add_overflow(conv_n, ssm_n, &floats) ||
        __builtin_mul_overflow(floats, uint64_t{sizeof(float)}, &payload) ||
        __builtin_add_overflow(payload, uint64_t{kHeaderBytes + 4}, &expected);
    if (overflow) return Error{"state snapshot declares a state too large to exist (corrupt)"};
    if (bytes.size() != expected)
        return Error{"state snapshot has " + std::to_string(bytes.size()) + " bytes, expected " +
                     std::to_string(expected) + " (truncated or corrupt)"};
    const uint32_t stored_crc = get<uint32_t>(bytes.data() + bytes.size() - 4);
    if (crc32(bytes.data(), bytes.size() - 4) != stored_crc) return Error{"state snapshot checksum mismatch (corrupt)"};
    s.conv.resize(conv_n);
    s.ssm.resize(ssm_n);
    std::memcpy(s.conv.data(), bytes.data() + kHeaderBytes, conv_n * sizeof(float));
    std::memcpy(s.ssm.data(), bytes.data() + kHeaderBytes + conv_n * sizeof(float), ssm_n * sizeof(float));
    return s;
}

}  // namespace fm
