#include "inference/session/snapshot_file.h"

#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <new>

#include "inference/checkpoint/weights.h"

namespace fm {
namespace {

constexpr char kMagic[4] = {'F', 'M', 'S', 'S'};
constexpr uint32_t kVersion = 1;

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
    uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.insert(out.end(), b, b + sizeof(T));
}

void put_bytes(std::vector<uint8_t>& out, const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    out.insert(out.end(), p, p + n);
}

// Bounds-checked reading: every read says what it was reading when the bytes run out.
class Reader {
public:
    explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
    template <typename T>
    Status read(T& v, const char* what) {
        if (bytes_.size() - pos_ < sizeof(T)) return Error{std::string("snapshot truncated while reading ") + what};
        std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return {};
    }
    Status read_bytes(void* dst, uint64_t n, const char* what) {
        if (n > bytes_.size() - pos_) return Error{std::string("snapshot truncated while reading ") + what};
        if (n) std::memcpy(dst, bytes_.data() + pos_, n);
        pos_ += n;
        return {};
    }
    // A u64 element count (named by `count_what`), then that many elements: the count is
    // checked against the bytes left before `out` is sized from it.
    template <typename Container>
    Status read_counted(Container& out, const char* count_what, const char* what) {
        uint64_t n = 0;
        if (auto s = read(n, count_what); !s) return s;
        constexpr uint64_t element = sizeof(typename Container::value_type);
        if (n > left() / element) return Error{std::string("snapshot truncated while reading ") + what};
        out.resize(n);
        return read_bytes(out.data(), n * element, what);
    }
    std::span<const uint8_t> take(uint64_t n) {
        auto s = bytes_.subspan(pos_, n);
        pos_ += n;
        return s;
    }
    uint64_t left() const { return bytes_.size() - pos_; }

private:
    std::span<const uint8_t> bytes_;
    size_t pos_ = 0;
};

// RecurrentState::serialize()'s header: magic, u32 version, i64 layers, inner, conv width,
// state size, u64 tokens seen. Its dimensions are checked here, with overflow-checked
// arithmetic, against the bytes the section holds before anything is sized from them.
constexpr size_t kStateHeaderBytes = 4 + 4 + 4 * 8 + 8;

Status check_state_section(std::span<const uint8_t> state) {
    if (state.size() < kStateHeaderBytes + 4) return {};  // deserialize names the truncation
    int64_t dims[4];
    std::memcpy(dims, state.data() + 8, sizeof(dims));
    for (int64_t d : dims)
        if (d < 0) return Error{"the state section has a negative dimension (" + std::to_string(d) + ")"};
    const auto layers = static_cast<uint64_t>(dims[0]), inner = static_cast<uint64_t>(dims[1]);
    uint64_t cells = 0, conv = 0, ssm = 0, floats = 0, bytes = 0;
    const bool overflow = __builtin_mul_overflow(layers, inner, &cells) ||
                          __builtin_mul_overflow(cells, static_cast<uint64_t>(dims[2]), &conv) ||
                          __builtin_mul_overflow(cells, static_cast<uint64_t>(dims[3]), &ssm) ||
                          __builtin_add_overflow(conv, ssm, &floats) ||
                          __builtin_mul_overflow(floats, uint64_t{sizeof(float)}, &bytes) ||
                          __builtin_add_overflow(bytes, uint64_t{kStateHeaderBytes + 4}, &bytes);
    const std::string shape = std::to_string(dims[0]) + " layers x " + std::to_string(dims[1]) + " channels x (" +
                              std::to_string(dims[2]) + " + " + std::to_string(dims[3]) + ")";
    if (overflow) return Error{"the state section declares " + shape + " values: more than any file can hold"};
    if (bytes != state.size())
        return Error{"the state section declares " + shape + " values (" + std::to_string(bytes) +
                     " bytes) but holds " + std::to_string(state.size()) + " bytes"};
    return {};
}

#define FM_CHECK(expr)                                       \
    do {                                                     \
        if (auto s_ = (expr); !s_) return Error{s_.error()}; \
    } while (0)

}  // namespace

std::vector<uint8_t> encode_snapshot(const StoredSnapshot& s) {
    std::vector<uint8_t> out;
    const auto state = s.snapshot.state.serialize();
    out.reserve(72 + s.metadata.size() + s.fingerprint.size() + s.snapshot.tokens.size() * 4 + s.snapshot.text.size() +
                s.snapshot.last_logits.size() * 4 + state.size());
    put_bytes(out, kMagic, 4);
    put<uint32_t>(out, kVersion);
    put<uint32_t>(out, static_cast<uint32_t>(s.fingerprint.size()));
    put_bytes(out, s.fingerprint.data(), s.fingerprint.size());
    put<uint64_t>(out, s.snapshot.tokens.size());
    put_bytes(out, s.snapshot.tokens.data(), s.snapshot.tokens.size() * sizeof(int32_t));
    put<uint64_t>(out, s.snapshot.text.size());
    put_bytes(out, s.snapshot.text.data(), s.snapshot.text.size());
    put<uint64_t>(out, s.snapshot.last_logits.size());
    put_bytes(out, s.snapshot.last_logits.data(), s.snapshot.last_logits.size() * sizeof(float));
    put<uint64_t>(out, state.size());
    put_bytes(out, state.data(), state.size());
    put<uint64_t>(out, s.metadata.size());
    put_bytes(out, s.metadata.data(), s.metadata.size());
    put<uint32_t>(out, crc32(out.data(), out.size()));
    return out;
}

namespace {

Result<StoredSnapshot> decode_checked(std::span<const uint8_t> bytes) {
    if (bytes.size() < 12) return Error{"snapshot truncated (" + std::to_string(bytes.size()) + " bytes)"};
    if (std::memcmp(bytes.data(), kMagic, 4) != 0) return Error{"not a conversation snapshot (bad magic)"};
    uint32_t stored_crc;
    std::memcpy(&stored_crc, bytes.data() + bytes.size() - 4, 4);
    if (crc32(bytes.data(), bytes.size() - 4) != stored_crc)
        return Error{"snapshot checksum mismatch: the file is corrupt or truncated"};
    Reader r(bytes.first(bytes.size() - 4));
    r.take(4);
    uint32_t version = 0, fp_len = 0;
    FM_CHECK(r.read(version, "the version"));
    if (version != kVersion) return Error{"snapshot version " + std::to_string(version) + " is not supported"};
    StoredSnapshot s;
    FM_CHECK(r.read(fp_len, "the fingerprint"));
    // Every length is checked against the bytes left before anything is allocated for it.
    if (fp_len > r.left()) return Error{"snapshot truncated while reading the fingerprint"};
    s.fingerprint.resize(fp_len);
    FM_CHECK(r.read_bytes(s.fingerprint.data(), fp_len, "the fingerprint"));
    FM_CHECK(r.read_counted(s.snapshot.tokens, "the token count", "the tokens"));
    FM_CHECK(r.read_counted(s.snapshot.text, "the text length", "the text"));
    FM_CHECK(r.read_counted(s.snapshot.last_logits, "the logit count", "the logits"));
    uint64_t n = 0;
    FM_CHECK(r.read(n, "the state length"));
    if (n > r.left()) return Error{"snapshot truncated while reading the state"};
    const auto state_bytes = r.take(n);
    FM_CHECK(check_state_section(state_bytes));
    auto state = RecurrentState::deserialize(state_bytes);
    if (!state) return Error{state.error()};
    s.snapshot.state = std::move(*state);
    FM_CHECK(r.read(n, "the metadata length"));
    if (n != r.left()) return Error{"snapshot metadata section has the wrong length"};
    s.metadata.resize(n);
    FM_CHECK(r.read_bytes(s.metadata.data(), n, "the metadata"));
    if (s.snapshot.state.tokens_seen != s.snapshot.tokens.size())
        return Error{"snapshot is inconsistent: its state has read " + std::to_string(s.snapshot.state.tokens_seen) +
                     " tokens but it lists " + std::to_string(s.snapshot.tokens.size())};
    return s;
}

}  // namespace

Result<StoredSnapshot> decode_snapshot(std::span<const uint8_t> bytes) {
    try {
        return decode_checked(bytes);
    } catch (const std::bad_alloc&) {
        return Error{"out of memory while reading the snapshot"};
    } catch (const std::exception& e) {
        return Error{std::string("cannot read the snapshot: ") + e.what()};
    }
}

Status save_snapshot_file(const std::filesystem::path& path, const StoredSnapshot& s) {
    const auto bytes = encode_snapshot(s);
    const std::string tmp = path.string() + ".tmp";
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(tmp.c_str(), "wb"), &std::fclose);
    if (!f) return Error{tmp + ": cannot create: " + std::strerror(errno)};
    bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f.get()) == bytes.size() && std::fflush(f.get()) == 0 &&
              ::fsync(::fileno(f.get())) == 0;
    const std::string why = std::strerror(errno);
    f.reset();
    if (!ok) {
        std::remove(tmp.c_str());
        return Error{path.string() + ": cannot write the snapshot (" + why + "); the previous one is kept"};
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) return Error{path.string() + ": cannot move the snapshot into place: " + ec.message()};
    return {};
}

Result<StoredSnapshot> load_snapshot_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{path.string() + ": cannot open"};
    std::vector<uint8_t> bytes;
    try {
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    } catch (const std::bad_alloc&) {
        return Error{path.string() + ": too large to read into memory"};
    }
    auto s = decode_snapshot(bytes);
    if (!s) return Error{path.string() + ": " + s.error()};
    return s;
}

std::string snapshot_fingerprint(const Backend& backend) {
    return backend.weights().fingerprint() + "/" + backend.numerics_id();
}

}  // namespace fm
