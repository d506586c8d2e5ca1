#include "inference/text/tokenizer.h"

#include <system_error>

#include "inference/core/guarded.h"

#include "inference/text/bpe_tokenizer.h"
#include "inference/text/sentencepiece_tokenizer.h"
#include "inference/text/unicode_tables.h"

namespace fm {

Result<std::unique_ptr<Tokenizer>> Tokenizer::load_from_dir(const std::filesystem::path& dir) {
    return guarded<Result<std::unique_ptr<Tokenizer>>>(dir.string(), [&]() -> Result<std::unique_ptr<Tokenizer>> {
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec)) return Error{dir.string() + ": tokenizer folder not found"};
        for (const char* name : {"tokenizer.json", "tokenizer.model"}) {
            auto file = dir / name;
            if (std::filesystem::is_regular_file(file, ec)) return load_file(file);
        }
        return Error{dir.string() + ": no tokenizer.json or tokenizer.model in this folder"};
    });
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::load_file(const std::filesystem::path& file) {
    return guarded<Result<std::unique_ptr<Tokenizer>>>(file.string(), [&]() -> Result<std::unique_ptr<Tokenizer>> {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(file, ec)) return Error{file.string() + ": tokenizer file not found"};
        auto ext = file.extension().string();
        if (ext == ".json") return BpeTokenizer::load(file);
        if (ext == ".model") return SentencePieceTokenizer::load(file);
        return Error{file.string() + ": unknown tokenizer format (expected tokenizer.json or tokenizer.model)"};
    });
}

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special)
    : tokenizer_(tokenizer), skip_special_(skip_special) {}

std::string StreamDecoder::push(int32_t id) {
    if (skip_special_ && tokenizer_.is_special(id)) return {};
    pending_ += tokenizer_.token_bytes(id);
    size_t cut = unicode::incomplete_utf8_tail(pending_);
    std::string out = unicode::utf8_lossy(std::string_view(pending_).substr(0, cut));
    pending_.erase(0, cut);
    return out;
}

std::string StreamDecoder::flush() {
    std::string out = unicode::utf8_lossy(pending_);
    pending_.clear();
    return out;
}

}  // namespace fm
