#pragma once
// Normalizer and pre-tokenizer of a Hugging Face tokenizer.json, interpreted from its JSON
// config. Supported: normalizer null / NFC / Sequence of those; pre-tokenizer Sequence,
// Punctuation, ByteLevel, Digits, Split (String or Regex pattern, see tokenizer_regex.h).
// Anything else is refused when loading, with a message naming the type.
//
// Pieces are byte ranges of a working buffer. Before the ByteLevel step the buffer is UTF-8 and
// steps see code points; from the ByteLevel step on, each byte stands for its GPT-2 byte-level
// character (e.g. 0x20 -> 'Ġ', 0xBD -> '½'), which is what later steps (Digits, Split) see.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "inference/core/result.h"

namespace fm {

class TokRegex;

// GPT-2's byte <-> printable character alphabet.
const std::array<char32_t, 256>& byte_level_chars();
// Byte for a byte-level character, or -1 if the character is not in the alphabet.
int byte_level_byte(char32_t c);

// Canonical composition (NFC) of valid UTF-8.
std::string nfc_normalize(std::string_view text);

struct PieceRange {
    uint32_t begin = 0, end = 0;
};

class PreTokenizer {
public:
    enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

    struct Step {
        enum Kind { Punctuation, ByteLevel, Digits, Split } kind = Split;
        Behavior behavior = Behavior::Isolated;
        bool invert = false;
        bool individual_digits = false;
        bool add_prefix_space = false;
        bool use_regex = true;
        bool gpt2_fast = false;                 // Split whose regex is the GPT-2 pattern
        std::shared_ptr<const TokRegex> regex;  // Split: compiled Regex or escaped String
        std::array<bool, 256> first_byte{};     // Split, byte-level mode: bytes that can start a match
        bool first_byte_known = false;
    };

    // `where` names the file for error messages.
    static Result<PreTokenizer> from_json(const nlohmann::json& normalizer, const nlohmann::json& pre_tokenizer,
                                          const std::string& where);

    // Runs normalizer and pre-tokenizer on valid UTF-8 `text`. `buf` receives the working text,
    // `pieces` the byte ranges of buf to feed to the model (in byte-level form when
    // has_byte_level()). Fails only if a regex runs out of backtracking budget.
    Status run(std::string_view text, std::string& buf, std::vector<PieceRange>& pieces) const;

    bool has_byte_level() const { return byte_level_; }
    const std::vector<Step>& steps() const { return steps_; }

private:
    static Status parse_step(const nlohmann::json& j, const std::string& where, std::vector<Step>& out);

    bool nfc_ = false;
    bool byte_level_ = false;
    std::vector<Step> steps_;
};

// The GPT-2 split (ByteLevel use_regex) on a UTF-8 range, hand-written for speed:
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
void gpt2_split(std::string_view text, uint32_t begin, uint32_t end, std::vector<PieceRange>& out);
extern const char* const kGpt2Pattern;

}  // namespace fm
