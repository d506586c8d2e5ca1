#pragma once
// Byte-level BPE from a Hugging Face tokenizer.json (Falcon, GPT-NeoX).
//
// Encoding: added tokens are split out first (leftmost, longest match, honouring lstrip /
// rstrip / single_word): special ones only with parse_special, non-special ones always (as
// Hugging Face does). The rest goes through the normalizer and pre-tokenizer (pretokenizer.h),
// then each piece through BPE merges by rank (heap over a linked list of symbols), with a
// bounded cache of pieces already seen. No post-processor template is applied: encode() never
// adds BOS/EOS, the chat template does that.
// Decoding: each id's bytes (byte-level alphabet inverted; added tokens give their content),
// concatenated, then invalid UTF-8 replaced by U+FFFD per maximal subpart.
// Loading: one SAX pass over tokenizer.json; model.vocab goes straight into a flat hash map and
// model.merges into a list of strings, the small rest (normalizer, pre-tokenizer, decoder,
// added tokens, model options) into a JSON document. The nesting limit of json_reader.h holds.

#include <array>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "inference/text/pretokenizer.h"
#include "inference/text/tokenizer.h"

namespace fm {

class BpeTokenizer final : public Tokenizer {
public:
    static Result<std::unique_ptr<Tokenizer>> load(const std::filesystem::path& file);
    // `where` names the source in error messages.
    static Result<std::unique_ptr<Tokenizer>> from_json_text(std::string_view json_text, const std::string& where);

    Result<std::vector<int32_t>> encode(std::string_view text, bool parse_special) const override;
    std::string decode(std::span<const int32_t> ids, bool skip_special) const override;
    std::string token_bytes(int32_t id) const override;
    int32_t vocab_size() const override { return vocab_size_; }
    const std::vector<AddedToken>& added_tokens() const override { return added_; }
    std::optional<int32_t> token_to_id(std::string_view token) const override;
    bool is_special(int32_t id) const override;
    std::string kind() const override { return "bpe"; }

    size_t cache_size() const;

private:
    struct Merge {
        int32_t rank;
        int32_t new_id;
    };
    // Open-addressing map from a pair of ids to its merge.
    class MergeMap {
    public:
        void reserve(size_t n);
        void insert(int32_t a, int32_t b, Merge m);
        const Merge* find(int32_t a, int32_t b) const {
            uint64_t key = (uint64_t(uint32_t(a)) << 32) | uint32_t(b);
            size_t i = hash(key) & mask_;
            while (true) {
                const Slot& s = slots_[i];
                if (s.key == key) return &s.merge;
                if (s.key == kEmpty) return nullptr;
                i = (i + 1) & mask_;
            }
        }
        size_t size() const { return size_; }

    private:
        static constexpr uint64_t kEmpty = ~uint64_t(0);
        struct Slot {
            uint64_t key = kEmpty;
            Merge merge{};
        };
        static size_t hash(uint64_t k) { return static_cast<size_t>((k * 0x9E3779B97F4A7C15ull) >> 20); }
        std::vector<Slot> slots_;
        size_t mask_ = 0, size_ = 0;
    };
    // Token string -> id: open addressing over 16-byte slots, the strings in one arena.
    class TokenMap {
    public:
        void reserve(size_t n);
        void assign(std::string_view key, int32_t id);  // a later duplicate wins, as in JSON
        const int32_t* find(std::string_view key) const {
            if (slots_.empty()) return nullptr;
            uint64_t h = hash(key);
            for (size_t i = h & mask_;; i = (i + 1) & mask_) {
                const Slot& s = slots_[i];
                if (s.id < 0) return nullptr;
                if (s.hash == uint32_t(h) && s.len == key.size() && arena_.compare(s.off, s.len, key) == 0)
                    return &s.id;
            }
        }
        size_t size() const { return size_; }
        template <typename F>
        void for_each(F&& f) const {
            for (const Slot& s : slots_)
                if (s.id >= 0) f(std::string_view(arena_).substr(s.off, s.len), s.id);
        }
        static uint64_t hash(std::string_view s);

    private:
        struct Slot {
            uint32_t off = 0, len = 0, hash = 0;
            int32_t id = -1;  // -1: empty
        };
        void rehash(size_t cap);
        std::string arena_;
        std::vector<Slot> slots_;
        size_t mask_ = 0, size_ = 0;
    };
    struct Matcher {
        std::array<std::vector<uint32_t>, 256> by_first_byte;  // indices into added_, longest first
    };
    struct TransparentHash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    using StringMap = std::unordered_map<std::string, int32_t, TransparentHash, std::equal_to<>>;

    Status load_json(std::string_view json_text, const std::string& where);
    Status load_merges(std::vector<std::string>& merges, std::vector<uint32_t>& pair_split, const std::string& where);
    void build_matcher(Matcher& m, bool include_special) const;
    void encode_segment(std::string_view text, std::vector<int32_t>& out, Status& status) const;
    void encode_piece(std::string_view bytes, std::vector<int32_t>& out) const;
    void merge_word(std::string_view bytes, std::vector<int32_t>& out) const;

    PreTokenizer pretok_;
    std::vector<std::string> id_bytes_;    // decoded bytes of each vocabulary id
    TokenMap vocab_;                       // token string (byte-level form) -> id
    StringMap raw_vocab_;                  // raw bytes -> id (only with ignore_merges)
    std::array<int32_t, 256> byte_ids_{};  // id of each single byte, -1 if missing
    MergeMap merges_;
    std::vector<AddedToken> added_;
    std::vector<std::string> added_bytes_;  // decoded bytes of each added token
    std::unordered_map<int32_t, size_t> added_by_id_;
    StringMap added_by_content_;
    Matcher match_all_, match_plain_;
    int32_t unk_id_ = -1;
    bool fuse_unk_ = false;
    bool ignore_merges_ = false;
    int32_t vocab_size_ = 0;

public:
    static constexpr size_t kCacheCapacity = 65536;  // pieces; cleared when full

private:
    static constexpr size_t kMaxCachedPiece = 128;  // bytes
    mutable std::mutex cache_mu_;
    mutable std::unordered_map<std::string, std::vector<int32_t>, TransparentHash, std::equal_to<>> cache_;
};

}  // namespace fm
