#pragma once
// SentencePiece tokenizer.model behind the Tokenizer interface (libsentencepiece).
//
// Control and unknown pieces (<s>, </s>, <unk>) are the special "added tokens": with
// parse_special their exact strings in the text become their ids and the text between them is
// encoded separately (each part gets SentencePiece's dummy-prefix space, like Hugging Face's
// slow Llama tokenizer); without it the whole text is ordinary text. User-defined pieces are
// always matched by SentencePiece itself. decode() uses SentencePiece's decoder (which drops
// the leading dummy-prefix space); token_bytes() gives each piece with U+2581 as a space and
// byte pieces <0xNN> as their byte, so a StreamDecoder keeps that leading space.

#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "inference/text/tokenizer.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace fm {

class SentencePieceTokenizer final : public Tokenizer {
public:
    static Result<std::unique_ptr<Tokenizer>> load(const std::filesystem::path& file);
    ~SentencePieceTokenizer() override;

    Result<std::vector<int32_t>> encode(std::string_view text, bool parse_special) const override;
    std::string decode(std::span<const int32_t> ids, bool skip_special) const override;
    std::string token_bytes(int32_t id) const override;
    int32_t vocab_size() const override;
    const std::vector<AddedToken>& added_tokens() const override { return added_; }
    std::optional<int32_t> token_to_id(std::string_view token) const override;
    bool is_special(int32_t id) const override;
    std::string kind() const override { return "sentencepiece"; }

private:
    SentencePieceTokenizer();
    Status encode_part(std::string_view text, std::vector<int32_t>& out) const;

    std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
    std::vector<AddedToken> added_;
    std::vector<uint8_t> special_;  // per id
};

}  // namespace fm
