#include "inference/text/sentencepiece_tokenizer.h"

#include <cstring>
#include <system_error>

#include <sentencepiece_processor.h>

#include "inference/text/unicode_tables.h"

namespace fm {

SentencePieceTokenizer::SentencePieceTokenizer() : sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}
SentencePieceTokenizer::~SentencePieceTokenizer() = default;

Result<std::unique_ptr<Tokenizer>> SentencePieceTokenizer::load(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) return Error{file.string() + ": tokenizer model file not found"};
    auto tok = std::unique_ptr<SentencePieceTokenizer>(new SentencePieceTokenizer());
    auto st = tok->sp_->Load(file.string());
    if (!st.ok()) return Error{file.string() + ": cannot load SentencePiece model: " + st.ToString()};
    const int n = tok->sp_->GetPieceSize();
    if (n <= 0) return Error{file.string() + ": SentencePiece model has an empty vocabulary"};
    tok->special_.assign(static_cast<size_t>(n), 0);
    for (int id = 0; id < n; ++id) {
        if (!tok->sp_->IsControl(id) && !tok->sp_->IsUnknown(id)) continue;
        AddedToken a;
        a.id = id;
        a.content = tok->sp_->IdToPiece(id);
        a.special = true;
        tok->special_[static_cast<size_t>(id)] = 1;
        if (!a.content.empty()) tok->added_.push_back(std::move(a));
    }
    return std::unique_ptr<Tokenizer>(std::move(tok));
}

Status SentencePieceTokenizer::encode_part(std::string_view text, std::vector<int32_t>& out) const {
    if (text.empty()) return {};
    std::vector<int> ids;
    auto st = sp_->Encode(std::string(text), &ids);
    if (!st.ok()) return Error{"SentencePiece encode failed: " + st.ToString()};
    out.insert(out.end(), ids.begin(), ids.end());
    return {};
}

Result<std::vector<int32_t>> SentencePieceTokenizer::encode(std::string_view text, bool parse_special) const {
    if (size_t bad = unicode::find_invalid_utf8(text); bad != std::string_view::npos)
        return Error{"cannot tokenize: invalid UTF-8 at byte offset " + std::to_string(bad)};
    std::vector<int32_t> out;
    size_t seg = 0, pos = 0;
    while (parse_special && pos < text.size()) {
        const AddedToken* hit = nullptr;
        for (const auto& a : added_)
            if (text.size() - pos >= a.content.size() &&
                std::memcmp(text.data() + pos, a.content.data(), a.content.size()) == 0 &&
                (!hit || a.content.size() > hit->content.size()))
                hit = &a;
        if (!hit) {
            ++pos;
            continue;
        }
        if (auto s = encode_part(text.substr(seg, pos - seg), out); !s) return Error{s.error()};
        out.push_back(hit->id);
        pos += hit->content.size();
        seg = pos;
    }
    if (auto s = encode_part(text.substr(seg), out); !s) return Error{s.error()};
    return out;
}

std::string SentencePieceTokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
    std::string out;
    std::vector<int> run;
    auto flush = [&] {
        if (run.empty()) return;
        std::string text;
        if (sp_->Decode(run, &text).ok()) out += text;
        run.clear();
    };
    for (int32_t id : ids) {
        if (id < 0 || id >= vocab_size()) continue;
        if (special_[static_cast<size_t>(id)]) {
            flush();
            if (!skip_special) out += sp_->IdToPiece(id);
            continue;
        }
        run.push_back(id);
    }
    flush();
    return unicode::utf8_lossy(out);
}

std::string SentencePieceTokenizer::token_bytes(int32_t id) const {
    if (id < 0 || id >= vocab_size()) return {};
    const std::string& piece = sp_->IdToPiece(id);
    if (sp_->IsByte(id) && piece.size() == 6) {  // <0xNN>
        return std::string(1, static_cast<char>(std::stoi(piece.substr(3, 2), nullptr, 16)));
    }
    if (special_[static_cast<size_t>(id)]) return piece;
    std::string out;
    static constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581
    for (size_t i = 0; i < piece.size();) {
        if (piece.compare(i, kSpace.size(), kSpace) == 0) {
            out += ' ';
            i += kSpace.size();
        } else {
            out += piece[i++];
        }
    }
    return out;
}

int32_t SentencePieceTokenizer::vocab_size() const {
    return sp_->GetPieceSize();
}

std::optional<int32_t> SentencePieceTokenizer::token_to_id(std::string_view token) const {
    int id = sp_->PieceToId(std::string(token));
    if (id < 0 || id >= vocab_size()) return std::nullopt;
    if (id == sp_->unk_id() && token != sp_->IdToPiece(id)) return std::nullopt;
    return id;
}

bool SentencePieceTokenizer::is_special(int32_t id) const {
    return id >= 0 && id < vocab_size() && special_[static_cast<size_t>(id)];
}

}  // namespace fm
