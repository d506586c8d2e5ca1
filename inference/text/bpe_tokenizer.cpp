#include "inference/text/bpe_tokenizer.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "inference/core/json_reader.h"

#include "inference/text/unicode_tables.h"

namespace fm {

using json = nlohmann::json;

namespace {

constexpr int64_t kMaxId = 16 * 1024 * 1024;

// Bytes a token string decodes to under the ByteLevel decoder: each character mapped back to
// its byte, or, if any character is outside the byte alphabet, the string's own UTF-8 bytes
// (the Hugging Face decoder's rule).
std::string byte_level_decode_token(std::string_view token) {
    std::string out;
    out.reserve(token.size());
    for (size_t i = 0; i < token.size();) {
        char32_t cp;
        size_t n = unicode::decode_utf8(token, i, cp);
        int b = n ? byte_level_byte(cp) : -1;
        if (b < 0) return std::string(token);
        out += static_cast<char>(b);
        i += n;
    }
    return out;
}

// Start of the trailing run of White_Space characters in s (s.size() if none).
size_t trailing_space_start(std::string_view s) {
    size_t i = s.size();
    while (i > 0) {
        size_t k = i - 1;
        while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
        char32_t cp;
        if (unicode::decode_utf8(s, k, cp) == 0 || !unicode::is_white_space(cp)) break;
        i = k;
    }
    return i;
}

size_t leading_space_len(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        char32_t cp;
        size_t n = unicode::decode_utf8(s, i, cp);
        if (n == 0 || !unicode::is_white_space(cp)) break;
        i += n;
    }
    return i;
}

bool ends_with_word(std::string_view s) {
    if (s.empty()) return false;
    size_t k = s.size() - 1;
    while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
    char32_t cp;
    return unicode::decode_utf8(s, k, cp) && unicode::is_alphanumeric(cp);
}

bool starts_with_word(std::string_view s) {
    char32_t cp;
    return !s.empty() && unicode::decode_utf8(s, 0, cp) && unicode::is_alphanumeric(cp);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

void BpeTokenizer::MergeMap::reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
    size_ = 0;
}

void BpeTokenizer::MergeMap::insert(int32_t a, int32_t b, Merge m) {
    uint64_t key = (uint64_t(uint32_t(a)) << 32) | uint32_t(b);
    size_t i = hash(key) & mask_;
    while (slots_[i].key != kEmpty && slots_[i].key != key) i = (i + 1) & mask_;
    if (slots_[i].key == kEmpty) ++size_;
    slots_[i].key = key;
    slots_[i].merge = m;  // a later duplicate wins, as in Hugging Face's map
}

// ---------------------------------------------------------------------------------------------
// Loading

Result<std::unique_ptr<Tokenizer>> BpeTokenizer::load(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return Error{file.string() + ": cannot open tokenizer file"};
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return Error{file.string() + ": read error"};
    return from_json_text(ss.str(), file.string());
}

Result<std::unique_ptr<Tokenizer>> BpeTokenizer::from_json_text(std::string_view json_text, const std::string& where) {
    auto tok = std::unique_ptr<BpeTokenizer>(new BpeTokenizer());
    Status s;
    try {
        s = tok->load_json(json_text, where);
    } catch (const json::parse_error& e) {
        return Error{where + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what()};
    } catch (const json::exception& e) {
        return Error{where + ": unexpected tokenizer.json structure: " + e.what()};
    } catch (const std::bad_alloc&) {
        return Error{where + ": out of memory while loading the tokenizer"};
    }
    if (!s) return s;
    return std::unique_ptr<Tokenizer>(std::move(tok));
}

Status BpeTokenizer::load_json(std::string_view json_text, const std::string& where) {
    auto parsed = parse_json(json_text, where);
    if (!parsed) return Error{parsed.error()};
    json root = std::move(*parsed);
    if (!root.is_object()) return Error{where + ": expected a JSON object at the top level"};
    auto model_it = root.find("model");
    if (model_it == root.end() || !model_it->is_object()) return Error{where + ": missing \"model\" object"};
    const json& model = *model_it;
    std::string type = model.contains("type") && model["type"].is_string() ? model["type"].get<std::string>()
                       : model.contains("merges")                          ? "BPE"
                                                                           : "";
    if (type != "BPE")
        return Error{where + ": model type " + (type.empty() ? std::string("(missing)") : "\"" + type + "\"") +
                     " is not supported; only byte-level BPE tokenizer.json files are"};
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
        auto it = model.find(key);
        if (it != model.end() && it->is_string() && !it->get<std::string>().empty())
            return Error{where + ": BPE option \"" + key + "\" is not supported"};
    }
    fuse_unk_ = model.contains("fuse_unk") && model["fuse_unk"].is_boolean() && model["fuse_unk"].get<bool>();
    ignore_merges_ =
        model.contains("ignore_merges") && model["ignore_merges"].is_boolean() && model["ignore_merges"].get<bool>();

    // Normalizer, pre-tokenizer, decoder.
    static const json kNull;
    auto get = [&](const char* key) -> const json& {
        auto it = root.find(key);
        return it == root.end() ? kNull : *it;
    };
    auto pre = PreTokenizer::from_json(get("normalizer"), get("pre_tokenizer"), where);
    if (!pre) return pre.status();
    pretok_ = std::move(pre.value());
    const json& dec = get("decoder");
    if (!dec.is_null()) {
        std::string dtype = dec.is_object() && dec.contains("type") && dec["type"].is_string()
                                ? dec["type"].get<std::string>()
                                : dec.dump().substr(0, 100);
        if (dtype != "ByteLevel") return Error{where + ": decoder " + dtype + " is not supported (only ByteLevel)"};
    }

    // Vocabulary.
    auto vocab_it = model.find("vocab");
    if (vocab_it == model.end() || !vocab_it->is_object()) return Error{where + ": model has no \"vocab\" object"};
    vocab_.reserve(vocab_it->size() * 2);
    int32_t max_id = -1;
    for (auto it = vocab_it->begin(); it != vocab_it->end(); ++it) {
        if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 || it.value().get<int64_t>() >= kMaxId)
            return Error{where + ": vocab entry \"" + it.key() + "\" has an invalid id " + it.value().dump()};
        auto id = static_cast<int32_t>(it.value().get<int64_t>());
        vocab_[it.key()] = id;
        max_id = std::max(max_id, id);
    }
    id_bytes_.assign(static_cast<size_t>(max_id + 1), std::string());
    for (const auto& [token, id] : vocab_) {
        id_bytes_[static_cast<size_t>(id)] = byte_level_decode_token(token);
        if (ignore_merges_) raw_vocab_[id_bytes_[static_cast<size_t>(id)]] = id;
    }
    const auto& chars = byte_level_chars();
    for (int b = 0; b < 256; ++b) {
        std::string ch;
        unicode::append_utf8(ch, chars[b]);
        auto it = vocab_.find(ch);
        byte_ids_[b] = it == vocab_.end() ? -1 : it->second;
    }
    if (auto unk = model.find("unk_token"); unk != model.end() && unk->is_string()) {
        auto it = vocab_.find(unk->get<std::string>());
        if (it == vocab_.end())
            return Error{where + ": unk_token \"" + unk->get<std::string>() + "\" is not in the vocabulary"};
        unk_id_ = it->second;
    }

    // Merges: "a b" strings or ["a", "b"] pairs.
    auto merges_it = model.find("merges");
    if (merges_it == model.end() || !merges_it->is_array()) return Error{where + ": model has no \"merges\" array"};
    merges_.reserve(merges_it->size());
    int32_t rank = 0;
    for (const auto& m : *merges_it) {
        std::string a, b;
        if (m.is_string()) {
            const std::string& line = m.get_ref<const std::string&>();
            size_t sp = line.find(' ');
            if (sp == std::string::npos || line.find(' ', sp + 1) != std::string::npos)
                return Error{where + ": merge " + std::to_string(rank) + " \"" + line + "\" is not two tokens"};
            a = line.substr(0, sp);
            b = line.substr(sp + 1);
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
            a = m[0].get<std::string>();
            b = m[1].get<std::string>();
        } else {
            return Error{where + ": merge " + std::to_string(rank) +
                         " is neither \"a b\" nor [a, b]: " + m.dump().substr(0, 100)};
        }
        auto ia = vocab_.find(a), ib = vocab_.find(b), inew = vocab_.find(a + b);
        if (ia == vocab_.end() || ib == vocab_.end() || inew == vocab_.end())
            return Error{where + ": merge " + std::to_string(rank) + " (\"" + a + "\", \"" + b +
                         "\") uses a token that is not in the vocabulary"};
        merges_.insert(ia->second, ib->second, Merge{rank, inew->second});
        ++rank;
    }

    // Added tokens.
    if (auto at = root.find("added_tokens"); at != root.end() && !at->is_null()) {
        if (!at->is_array()) return Error{where + ": \"added_tokens\" must be an array"};
        for (size_t k = 0; k < at->size(); ++k) {
            const json& t = (*at)[k];
            const std::string here = where + ": added_tokens[" + std::to_string(k) + "]";
            if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("content") ||
                !t["content"].is_string())
                return Error{here + " needs an integer \"id\" and a string \"content\""};
            AddedToken a;
            int64_t id = t["id"].get<int64_t>();
            if (id < 0 || id >= kMaxId) return Error{here + ": invalid id " + std::to_string(id)};
            a.id = static_cast<int32_t>(id);
            a.content = t["content"].get<std::string>();
            if (a.content.empty()) return Error{here + ": empty content"};
            if (unicode::find_invalid_utf8(a.content) != std::string::npos)
                return Error{here + ": content is not valid UTF-8"};
            auto flag = [&](const char* key) { return t.contains(key) && t[key].is_boolean() && t[key].get<bool>(); };
            a.special = flag("special");
            a.single_word = flag("single_word");
            a.lstrip = flag("lstrip");
            a.rstrip = flag("rstrip");
            a.normalized = flag("normalized");
            added_by_id_[a.id] = added_.size();
            added_by_content_[a.content] = a.id;
            added_bytes_.push_back(byte_level_decode_token(a.content));
            max_id = std::max(max_id, a.id);
            added_.push_back(std::move(a));
        }
    }
    vocab_size_ = max_id + 1;
    build_matcher(match_all_, true);
    build_matcher(match_plain_, false);
    return {};
}

void BpeTokenizer::build_matcher(Matcher& m, bool include_special) const {
    for (uint32_t k = 0; k < added_.size(); ++k) {
        if (added_[k].special && !include_special) continue;
        m.by_first_byte[static_cast<unsigned char>(added_[k].content[0])].push_back(k);
    }
    for (auto& v : m.by_first_byte)
        std::stable_sort(v.begin(), v.end(),
                         [&](uint32_t x, uint32_t y) { return added_[x].content.size() > added_[y].content.size(); });
}

// ---------------------------------------------------------------------------------------------
// Encoding

Result<std::vector<int32_t>> BpeTokenizer::encode(std::string_view text, bool parse_special) const {
    if (size_t bad = unicode::find_invalid_utf8(text); bad != std::string_view::npos)
        return Error{"cannot tokenize: invalid UTF-8 at byte offset " + std::to_string(bad)};
    std::vector<int32_t> ids;
    ids.reserve(text.size() / 3 + 4);
    Status status;
    const Matcher& m = parse_special ? match_all_ : match_plain_;
    size_t seg_start = 0;  // start of the ordinary text not yet encoded
    size_t pos = 0;        // where to look for the next added token
    while (pos < text.size() && status) {
        const auto& cands = m.by_first_byte[static_cast<unsigned char>(text[pos])];
        const AddedToken* hit = nullptr;
        for (uint32_t k : cands) {
            const std::string& c = added_[k].content;
            if (text.size() - pos >= c.size() && std::memcmp(text.data() + pos, c.data(), c.size()) == 0) {
                hit = &added_[k];
                break;
            }
        }
        if (!hit) {
            ++pos;
            continue;
        }
        size_t start = pos, stop = pos + hit->content.size();
        pos = stop;
        if (hit->single_word) {
            bool start_ok = start == 0 || !ends_with_word(text.substr(0, start));
            bool stop_ok = stop == text.size() || !starts_with_word(text.substr(stop));
            if (!start_ok || !stop_ok) continue;
        }
        if (hit->lstrip) start = std::max(trailing_space_start(text.substr(0, start)), seg_start);
        if (hit->rstrip) stop += leading_space_len(text.substr(stop));
        if (start > seg_start) encode_segment(text.substr(seg_start, start - seg_start), ids, status);
        ids.push_back(hit->id);
        seg_start = pos = stop;
    }
    if (status && seg_start < text.size()) encode_segment(text.substr(seg_start), ids, status);
    if (!status) return Error{status.error()};
    return ids;
}

void BpeTokenizer::encode_segment(std::string_view text, std::vector<int32_t>& out, Status& status) const {
    std::string buf;
    std::vector<PieceRange> pieces;
    status = pretok_.run(text, buf, pieces);
    if (!status) return;
    for (const auto& p : pieces) encode_piece(std::string_view(buf).substr(p.begin, p.end - p.begin), out);
}

void BpeTokenizer::encode_piece(std::string_view bytes, std::vector<int32_t>& out) const {
    if (bytes.size() == 1) {
        int32_t id = byte_ids_[static_cast<unsigned char>(bytes[0])];
        if (id < 0) id = unk_id_;
        if (id >= 0) out.push_back(id);
        return;
    }
    if (ignore_merges_) {
        if (auto it = raw_vocab_.find(bytes); it != raw_vocab_.end()) {
            out.push_back(it->second);
            return;
        }
    }
    bool cacheable = bytes.size() <= kMaxCachedPiece;
    if (cacheable) {
        std::lock_guard<std::mutex> lock(cache_mu_);
        if (auto it = cache_.find(bytes); it != cache_.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    size_t first = out.size();
    merge_word(bytes, out);
    if (cacheable) {
        std::vector<int32_t> ids(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
        std::lock_guard<std::mutex> lock(cache_mu_);
        if (cache_.size() >= kCacheCapacity) cache_.clear();
        cache_.emplace(std::string(bytes), std::move(ids));
    }
}

// BPE on one piece: symbols in a linked list, candidate merges in a min-heap by (rank, position);
// stale heap entries are skipped when popped (Hugging Face's Word::merge_all).
void BpeTokenizer::merge_word(std::string_view bytes, std::vector<int32_t>& out) const {
    struct Sym {
        int32_t id;
        int32_t prev, next;
        bool alive;
    };
    struct Cand {
        int32_t rank, pos, new_id;
        bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    thread_local std::vector<Sym> syms;
    thread_local std::vector<Cand> heap;
    syms.clear();
    heap.clear();
    for (char c : bytes) {
        int32_t id = byte_ids_[static_cast<unsigned char>(c)];
        if (id < 0) {
            if (unk_id_ < 0) continue;  // no unk token: the byte is dropped, as in Hugging Face
            if (fuse_unk_ && !syms.empty() && syms.back().id == unk_id_) continue;
            id = unk_id_;
        }
        auto n = static_cast<int32_t>(syms.size());
        syms.push_back({id, n - 1, n + 1, true});
    }
    if (syms.empty()) return;
    syms.back().next = -1;
    auto gt = std::greater<Cand>();
    auto consider = [&](int32_t pos) {
        int32_t nx = syms[static_cast<size_t>(pos)].next;
        if (nx < 0) return;
        if (const Merge* m = merges_.find(syms[static_cast<size_t>(pos)].id, syms[static_cast<size_t>(nx)].id)) {
            heap.push_back({m->rank, pos, m->new_id});
            std::push_heap(heap.begin(), heap.end(), gt);
        }
    };
    for (int32_t i = 0; i + 1 < static_cast<int32_t>(syms.size()); ++i) consider(i);
    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), gt);
        Cand c = heap.back();
        heap.pop_back();
        Sym& s = syms[static_cast<size_t>(c.pos)];
        if (!s.alive || s.next < 0) continue;
        Sym& r = syms[static_cast<size_t>(s.next)];
        const Merge* m = merges_.find(s.id, r.id);
        if (!m || m->new_id != c.new_id) continue;  // stale
        s.id = c.new_id;
        r.alive = false;
        s.next = r.next;
        if (s.next >= 0) syms[static_cast<size_t>(s.next)].prev = c.pos;
        if (s.prev >= 0) consider(s.prev);
        consider(c.pos);
    }
    for (int32_t i = 0; i >= 0; i = syms[static_cast<size_t>(i)].next) out.push_back(syms[static_cast<size_t>(i)].id);
}

size_t BpeTokenizer::cache_size() const {
    std::lock_guard<std::mutex> lock(cache_mu_);
    return cache_.size();
}

// ---------------------------------------------------------------------------------------------
// Decoding and lookups

std::string BpeTokenizer::token_bytes(int32_t id) const {
    if (auto it = added_by_id_.find(id); it != added_by_id_.end()) return added_bytes_[it->second];
    if (id >= 0 && static_cast<size_t>(id) < id_bytes_.size()) return id_bytes_[static_cast<size_t>(id)];
    return {};
}

std::string BpeTokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
    std::string bytes;
    for (int32_t id : ids) {
        if (skip_special && is_special(id)) continue;
        if (auto it = added_by_id_.find(id); it != added_by_id_.end())
            bytes += added_bytes_[it->second];
        else if (id >= 0 && static_cast<size_t>(id) < id_bytes_.size())
            bytes += id_bytes_[static_cast<size_t>(id)];
    }
    return unicode::utf8_lossy(bytes);
}

std::optional<int32_t> BpeTokenizer::token_to_id(std::string_view token) const {
    if (auto it = added_by_content_.find(token); it != added_by_content_.end()) return it->second;
    if (auto it = vocab_.find(token); it != vocab_.end()) return it->second;
    return std::nullopt;
}

bool BpeTokenizer::is_special(int32_t id) const {
    auto it = added_by_id_.find(id);
    return it != added_by_id_.end() && added_[it->second].special;
}

}  // namespace fm
