#pragma once
// Text <-> token ids. Implementations: Hugging Face tokenizer.json byte-level BPE (Falcon,
// GPT-NeoX) and SentencePiece tokenizer.model, behind one interface.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inference/core/result.h"

namespace fm {

struct AddedToken {
    int32_t id = 0;
    std::string content;
    bool special = false;
    bool single_word = false;
    bool lstrip = false;
    bool rstrip = false;
    bool normalized = false;
};

class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    // A checkpoint folder: tokenizer.json if present, else tokenizer.model (SentencePiece).
    static Result<std::unique_ptr<Tokenizer>> load_from_dir(const std::filesystem::path& dir);
    // One file: *.json (Hugging Face) or *.model (SentencePiece).
    static Result<std::unique_ptr<Tokenizer>> load_file(const std::filesystem::path& file);

    // parse_special = true: added tokens' strings in the text become their ids (template
    // scaffolding). false: the text is ordinary text, whatever it contains (what a user typed).
    // Fails on invalid UTF-8 with the byte offset.
    virtual Result<std::vector<int32_t>> encode(std::string_view text, bool parse_special) const = 0;

    // Decoded bytes; invalid UTF-8 sequences (a character cut between tokens) become U+FFFD.
    virtual std::string decode(std::span<const int32_t> ids, bool skip_special) const = 0;
    // Raw bytes of one token as decoding produces them (may be part of a UTF-8 character).
    virtual std::string token_bytes(int32_t id) const = 0;

    virtual int32_t vocab_size() const = 0;
    virtual const std::vector<AddedToken>& added_tokens() const = 0;
    // Id of an added token or vocabulary entry by its exact string, if any.
    virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
    virtual bool is_special(int32_t id) const = 0;
    virtual std::string kind() const = 0;  // "bpe" or "sentencepiece"
};

// Turns a stream of token ids into text, emitting only complete UTF-8 characters: bytes of a
// character split across tokens are held back until the character is complete.
class StreamDecoder {
public:
    StreamDecoder(const Tokenizer& tokenizer, bool skip_special);
    // Text that became complete with this token (may be empty).
    std::string push(int32_t id);
    // Whatever is still held back (an incomplete character becomes U+FFFD).
    std::string flush();

private:
    const Tokenizer& tokenizer_;
    bool skip_special_;
    std::string pending_;
};

}  // namespace fm
