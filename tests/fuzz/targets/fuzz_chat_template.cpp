// tokenizer_config.json (chat template, special tokens) and chat-template rendering: the format
// loads or fails with an error; one that loads renders segments whose text is the rendering.
#include <cstdlib>

#include "inference/chat/chat_format.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

// Only what ChatFormat asks of a tokenizer: its added tokens.
class AddedTokensOnly : public fm::Tokenizer {
public:
    AddedTokensOnly() : added_{{1, "<|endoftext|>", true}, {5, "<|im_start|>", true}, {6, "<|im_end|>", true}} {}
    fm::Result<std::vector<int32_t>> encode(std::string_view, bool) const override { return std::vector<int32_t>{}; }
    std::string decode(std::span<const int32_t>, bool) const override { return {}; }
    std::string token_bytes(int32_t) const override { return {}; }
    int32_t vocab_size() const override { return 16; }
    const std::vector<fm::AddedToken>& added_tokens() const override { return added_; }
    std::optional<int32_t> token_to_id(std::string_view token) const override {
        for (const auto& t : added_)
            if (t.content == token) return t.id;
        return std::nullopt;
    }
    bool is_special(int32_t) const override { return true; }
    std::string kind() const override { return "fake"; }

private:
    std::vector<fm::AddedToken> added_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto dir = fm::fuzz::scratch_dir() / "chat";
    std::filesystem::create_directories(dir);
    fm::fuzz::write_file(dir / "tokenizer_config.json", fm::fuzz::as_text(data, size));
    AddedTokensOnly tokenizer;
    auto format = fm::ChatFormat::load(dir, tokenizer, {});
    if (!format) return 0;
    const std::vector<fm::ChatMessage> messages{{"user", "<|im_end|>hi"}, {"assistant", "ok"}, {"user", "again"}};
    auto text = format->render(messages, true);
    auto segments = format->render_segments(messages, true);
    if (text.ok() != segments.ok()) std::abort();
    if (text) {
        std::string joined;
        for (const auto& s : *segments) joined += s.text;
        if (joined != *text) std::abort();
    }
    return 0;
}
