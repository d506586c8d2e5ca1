#include "inference/text/bpe_tokenizer.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>

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
    return unicode::decode_utf8(s, k, cp) && unicode::is_word_char(cp);
}

bool starts_with_word(std::string_view s) {
    char32_t cp;
    return !s.empty() && unicode::decode_utf8(s, 0, cp) && unicode::is_word_char(cp);
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

void BpeTokenizer::TokenMap::reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    if (cap > slots_.size()) rehash(cap);
}

void BpeTokenizer::TokenMap::rehash(size_t cap) {
    std::vector<Slot> old(cap);
    old.swap(slots_);
    mask_ = cap - 1;
    for (const Slot& s : old) {
        if (s.id < 0) continue;
        size_t i = s.hash & mask_;  // the low 32 bits of the hash suffice for the slot
        while (slots_[i].id >= 0) i = (i + 1) & mask_;
        slots_[i] = s;
    }
}

uint64_t BpeTokenizer::TokenMap::hash(std::string_view s) {
    const char* p = s.data();
    size_t n = s.size();
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xFF51AFD7ED558CCDull);
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
    }
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * 0x94D049BB133111EBull;
    return h ^ (h >> 29);
}

void BpeTokenizer::TokenMap::assign(std::string_view key, int32_t id) {
    if ((size_ + 1) * 2 > slots_.size()) rehash(std::max<size_t>(16, slots_.size() * 2));
    uint64_t h = hash(key);
    size_t i = h & mask_;
    while (slots_[i].id >= 0) {
        Slot& s = slots_[i];
        if (s.hash == uint32_t(h) && s.len == key.size() && arena_.compare(s.off, s.len, key) == 0) {
            s.id = id;
            return;
        }
        i = (i + 1) & mask_;
    }
    if (arena_.size() + key.size() > UINT32_MAX) throw std::bad_alloc();  // offsets are 32-bit
    slots_[i] = {static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(key.size()), uint32_t(h), id};
    arena_.append(key);
    ++size_;
}

// ---------------------------------------------------------------------------------------------
// Loading

namespace {

// SAX handler for tokenizer.json: model.vocab (an object) into the token map, model.merges (an
// array) into strings, everything else into a JSON document. Refuses nesting deeper than
// kMaxJsonDepth before building anything, like parse_json().
class LoadSax {
public:
    LoadSax(const std::string& where, int32_t max_id, std::vector<std::string>& merges,
            std::vector<uint32_t>& pair_split, std::function<void(std::string_view, int32_t)> add_vocab)
        : where_(where), max_id_(max_id), merges_(merges), pair_split_(pair_split), add_vocab_(std::move(add_vocab)) {}

    json root;
    std::string error;
    bool vocab_seen = false, merges_seen = false;

    bool null() { return value(nullptr, "null"); }
    bool boolean(bool v) { return value(v, v ? "true" : "false"); }
    bool number_integer(json::number_integer_t v) {
        if (region_ == Vocab && depth_ == region_depth_) return vocab_id(v, std::to_string(v));
        return value(v, std::to_string(v));
    }
    bool number_unsigned(json::number_unsigned_t v) {
        if (region_ == Vocab && depth_ == region_depth_)
            return vocab_id(v > uint64_t(INT64_MAX) ? -1 : int64_t(v), std::to_string(v));
        return value(v, std::to_string(v));
    }
    bool number_float(json::number_float_t v, const std::string& text) { return value(v, text); }
    bool string(std::string& v) {
        if (region_ == Merges && depth_ == region_depth_) {
            merges_.push_back(std::move(v));
            pair_split_.push_back(kNoSplit);
            return true;
        }
        if (region_ == MergePair) {
            if (pair_parts_ == 0) {
                merges_.back() = std::move(v);
                pair_split_.back() = static_cast<uint32_t>(merges_.back().size());
            } else {
                merges_.back() += v;
            }
            ++pair_parts_;
            return true;
        }
        if (region_ == Vocab) return value(nullptr, json(v).dump());
        return value(std::move(v), "a string");
    }
    bool binary(json::binary_t&) { return fail("binary value"); }
    bool key(std::string& k) {
        key_ = std::move(k);
        return true;
    }
    bool start_object(size_t) {
        if (++depth_ > kMaxJsonDepth) return too_deep();
        if (region_ != None) return value(nullptr, "an object");
        if (depth_ == 3 && model_ && stack_.size() == 2 && stack_.back() == model_ && key_ == "vocab") {
            if (vocab_seen) return fail("model has two \"vocab\" objects");
            region_ = Vocab;
            region_depth_ = depth_;
            vocab_seen = true;
            return true;
        }
        json* obj = open(json::object());
        if (depth_ == 2 && stack_.size() == 2 && stack_[0]->is_object() && key_ == "model") {
            // A second "model" would replace the first in a document, but its vocabulary and
            // merges have already been taken: refuse rather than mix the two.
            if (model_) return fail("two \"model\" objects");
            model_ = obj;
        }
        return true;
    }
    bool end_object() {
        --depth_;
        if (region_ == Vocab && depth_ + 1 == region_depth_) {
            region_ = None;
            return true;
        }
        stack_.pop_back();
        return true;
    }
    bool start_array(size_t) {
        if (++depth_ > kMaxJsonDepth) return too_deep();
        if (region_ == Merges && depth_ == region_depth_ + 1) {
            region_ = MergePair;
            pair_parts_ = 0;
            merges_.emplace_back();
            pair_split_.push_back(0);
            return true;
        }
        if (region_ != None) return value(nullptr, "a list");
        if (depth_ == 3 && model_ && stack_.size() == 2 && stack_.back() == model_ && key_ == "merges") {
            if (merges_seen) return fail("model has two \"merges\" arrays");
            region_ = Merges;
            region_depth_ = depth_;
            merges_seen = true;
            return true;
        }
        open(json::array());
        return true;
    }
    bool end_array() {
        --depth_;
        if (region_ == MergePair) {
            if (pair_parts_ != 2) return bad_merge("a list of " + std::to_string(pair_parts_) + " strings");
            region_ = Merges;
            return true;
        }
        if (region_ == Merges && depth_ + 1 == region_depth_) {
            region_ = None;
            return true;
        }
        stack_.pop_back();
        return true;
    }
    bool parse_error(size_t position, const std::string&, const nlohmann::detail::exception& e) {
        if (error.empty()) error = where_ + ": invalid JSON at byte " + std::to_string(position) + ": " + e.what();
        return false;
    }

private:
    enum Region { None, Vocab, Merges, MergePair };
    static constexpr uint32_t kNoSplit = ~uint32_t(0);

    bool fail(const std::string& what) {
        if (error.empty()) error = where_ + ": " + what;
        return false;
    }
    bool too_deep() { return fail("JSON nested more than " + std::to_string(kMaxJsonDepth) + " levels deep"); }
    // In a pair, the merge is the last one stored; a stray value is the next one.
    bool bad_merge(const std::string& what) {
        size_t rank = region_ == MergePair ? merges_.size() - 1 : merges_.size();
        return fail("merge " + std::to_string(rank) + " is neither \"a b\" nor [a, b]: " + what);
    }
    bool vocab_id(int64_t v, const std::string& text) {
        if (v < 0 || v >= max_id_) return fail("vocab entry \"" + key_ + "\" has an invalid id " + text);
        add_vocab_(key_, static_cast<int32_t>(v));
        return true;
    }
    // A value inside the document (not vocab or merges); `what` describes it for errors there.
    template <typename V>
    bool value(V&& v, const std::string& what) {
        if (region_ == Vocab) return fail("vocab entry \"" + key_ + "\" has an invalid id " + what);
        if (region_ == Merges) return bad_merge(what);
        if (region_ == MergePair) return bad_merge("a list holding " + what);
        put(json(std::forward<V>(v)));
        return true;
    }
    json* put(json&& v) {
        if (stack_.empty()) {
            root = std::move(v);
            return &root;
        }
        json& top = *stack_.back();
        if (top.is_array()) {
            top.push_back(std::move(v));
            return &top.back();
        }
        json& slot = top[key_];
        slot = std::move(v);
        return &slot;
    }
    json* open(json&& v) {
        json* p = put(std::move(v));
        stack_.push_back(p);
        return p;
    }

    const std::string& where_;
    int32_t max_id_;
    std::vector<std::string>& merges_;
    std::vector<uint32_t>& pair_split_;
    std::function<void(std::string_view, int32_t)> add_vocab_;
    std::vector<json*> stack_;
    std::string key_;
    json* model_ = nullptr;
    int depth_ = 0, region_depth_ = 0, pair_parts_ = 0;
    Region region_ = None;
};

}  // namespace

Result<std::unique_ptr<Tokenizer>> BpeTokenizer::load(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary | std::ios::ate);
    if (!in) return Error{file.string() + ": cannot open tokenizer file"};
    std::string text;
    auto size = in.tellg();
    if (size > 0) {
        text.resize(static_cast<size_t>(size));
        in.seekg(0);
        in.read(text.data(), size);
    }
    if (in.bad() || (size > 0 && in.gcount() != size)) return Error{file.string() + ": read error"};
    return from_json_text(text, file.string());
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
    std::vector<std::string> merges;
    std::vector<uint32_t> pair_split;  // per merge: length of a in [a, b] form, ~0 for "a b"
    int32_t max_id = -1;
    vocab_.reserve(std::min<size_t>(json_text.size() / 48, size_t(1) << 20));  // grows past that
    LoadSax sax(where, static_cast<int32_t>(kMaxId), merges, pair_split, [&](std::string_view token, int32_t id) {
        vocab_.assign(token, id);
        max_id = std::max(max_id, id);
    });
    if (!json::sax_parse(json_text.begin(), json_text.end(), &sax))
        return Error{sax.error.empty() ? where + ": invalid JSON" : sax.error};
    json root = std::move(sax.root);
    if (!root.is_object()) return Error{where + ": expected a JSON object at the top level"};
    auto model_it = root.find("model");
    if (model_it == root.end() || !model_it->is_object()) return Error{where + ": missing \"model\" object"};
    const json& model = *model_it;
    std::string type = model.contains("type") && model["type"].is_string() ? model["type"].get<std::string>()
                       : sax.merges_seen || model.contains("merges")       ? "BPE"
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
    if (!sax.vocab_seen) return Error{where + ": model has no \"vocab\" object"};
    id_bytes_.assign(static_cast<size_t>(max_id + 1), std::string());
    vocab_.for_each([&](std::string_view token, int32_t id) {
        std::string& bytes = id_bytes_[static_cast<size_t>(id)];
        bytes = byte_level_decode_token(token);
        if (ignore_merges_) raw_vocab_[bytes] = id;
    });
    const auto& chars = byte_level_chars();
    for (int b = 0; b < 256; ++b) {
        std::string ch;
        unicode::append_utf8(ch, chars[b]);
        const int32_t* id = vocab_.find(ch);
        byte_ids_[b] = id ? *id : -1;
    }
    if (auto unk = model.find("unk_token"); unk != model.end() && unk->is_string()) {
        const int32_t* id = vocab_.find(unk->get_ref<const std::string&>());
        if (!id) return Error{where + ": unk_token \"" + unk->get<std::string>() + "\" is not in the vocabulary"};
        unk_id_ = *id;
    }

    // Merges.
    if (!sax.merges_seen) return Error{where + ": model has no \"merges\" array"};
    if (auto s = load_merges(merges, pair_split, where); !s) return s;

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

// Merges: "a b" strings, or [a, b] pairs stored as a + b with the length of a.
Status BpeTokenizer::load_merges(std::vector<std::string>& merges, std::vector<uint32_t>& pair_split,
                                 const std::string& where) {
    merges_.reserve(merges.size());
    std::string joined;
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        std::string_view line = merges[rank], a, b, ab;
        if (pair_split[rank] == ~uint32_t(0)) {
            size_t sp = line.find(' ');
            if (sp == std::string::npos || line.find(' ', sp + 1) != std::string::npos)
                return Error{where + ": merge " + std::to_string(rank) + " \"" + std::string(line) +
                             "\" is not two tokens"};
            a = line.substr(0, sp);
            b = line.substr(sp + 1);
            joined.assign(a);
            joined.append(b);
            ab = joined;
        } else {
            a = line.substr(0, pair_split[rank]);
            b = line.substr(pair_split[rank]);
            ab = line;
        }
        const int32_t *ia = vocab_.find(a), *ib = vocab_.find(b), *inew = vocab_.find(ab);
        if (!ia || !ib || !inew)
            return Error{where + ": merge " + std::to_string(rank) + " (\"" + std::string(a) + "\", \"" +
                         std::string(b) + "\") uses a token that is not in the vocabulary"};
        merges_.insert(*ia, *ib, Merge{static_cast<int32_t>(rank), *inew});
    }
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
    if (const int32_t* id = vocab_.find(token)) return *id;
    return std::nullopt;
}

bool BpeTokenizer::is_special(int32_t id) const {
    auto it = added_by_id_.find(id);
    return it != added_by_id_.end() && added_[it->second].special;
}

}  // namespace fm
