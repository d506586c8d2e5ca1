#include "inference/text/pretokenizer.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "inference/text/tokenizer_regex.h"
#include "inference/text/unicode_tables.h"

namespace fm {

using json = nlohmann::json;

const char* const kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// ---------------------------------------------------------------------------------------------
// Byte-level alphabet

namespace {

struct ByteAlphabet {
    std::array<char32_t, 256> to_char{};
    std::array<int16_t, 324> to_byte{};  // characters 0..323 cover the whole alphabet
    ByteAlphabet() {
        to_byte.fill(-1);
        char32_t next = 256;
        for (int b = 0; b < 256; ++b) {
            bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            to_char[b] = printable ? char32_t(b) : next++;
            to_byte[to_char[b]] = static_cast<int16_t>(b);
        }
    }
};

const ByteAlphabet& alphabet() {
    static const ByteAlphabet a;
    return a;
}

}  // namespace

const std::array<char32_t, 256>& byte_level_chars() {
    return alphabet().to_char;
}

int byte_level_byte(char32_t c) {
    return c < 324 ? alphabet().to_byte[c] : -1;
}

// ---------------------------------------------------------------------------------------------
// NFC

namespace {

constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

void decompose(char32_t cp, std::u32string& out) {
    if (cp >= kSBase && cp < kSBase + kSCount) {
        char32_t s = cp - kSBase;
        out += kLBase + s / kNCount;
        out += kVBase + (s % kNCount) / kTCount;
        if (s % kTCount) out += kTBase + s % kTCount;
        return;
    }
    if (const auto* d = unicode::decomposition(cp)) {
        decompose(d->first, out);
        if (d->second) decompose(d->second, out);
        return;
    }
    out += cp;
}

char32_t compose_pair(char32_t a, char32_t b) {
    if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
        return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
    if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount)
        return a + (b - kTBase);
    static const std::unordered_map<uint64_t, char32_t> pairs = [] {
        std::unordered_map<uint64_t, char32_t> m;
        for (const auto& d : unicode::decompositions())
            if (d.composite) m.emplace((uint64_t(d.first) << 21) | d.second, d.cp);
        return m;
    }();
    auto it = pairs.find((uint64_t(a) << 21) | b);
    return it == pairs.end() ? 0 : it->second;
}

}  // namespace

std::string nfc_normalize(std::string_view text) {
    // Nothing below U+0300 changes under NFC; U+0300 starts with byte 0xCC.
    if (std::none_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0xCC; }))
        return std::string(text);
    std::u32string d;
    for (size_t i = 0; i < text.size();) {
        char32_t cp;
        size_t n = unicode::decode_utf8(text, i, cp);
        if (n == 0) {
            cp = 0xFFFD;
            n = 1;
        }
        decompose(cp, d);
        i += n;
    }
    // Canonical ordering: stable sort of each run of non-starters by combining class.
    for (size_t i = 0; i < d.size();) {
        if (unicode::combining_class(d[i]) == 0) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < d.size() && unicode::combining_class(d[j]) != 0) ++j;
        std::stable_sort(d.begin() + i, d.begin() + j, [](char32_t a, char32_t b) {
            return unicode::combining_class(a) < unicode::combining_class(b);
        });
        i = j;
    }
    // Canonical composition.
    if (!d.empty()) {
        size_t starter_pos = 0, out = 1;
        int last_class = unicode::combining_class(d[0]) ? 256 : 0;
        for (size_t i = 1; i < d.size(); ++i) {
            char32_t ch = d[i];
            int ch_class = unicode::combining_class(ch);
            char32_t comp = last_class == 256 ? 0 : compose_pair(d[starter_pos], ch);
            if (comp && (last_class < ch_class || last_class == 0)) {
                d[starter_pos] = comp;
                continue;
            }
            if (ch_class == 0) starter_pos = out;
            last_class = ch_class;
            d[out++] = ch;
        }
        d.resize(out);
    }
    std::string r;
    r.reserve(text.size());
    for (char32_t cp : d) unicode::append_utf8(r, cp);
    return r;
}

// ---------------------------------------------------------------------------------------------
// GPT-2 split

namespace {

enum CharClass : uint8_t { kLetter, kNumber, kSpace, kOther };

struct AsciiClasses {
    std::array<uint8_t, 128> c{};
    AsciiClasses() {
        for (int i = 0; i < 128; ++i) {
            char32_t ch = static_cast<char32_t>(i);
            c[i] = unicode::is_white_space(ch) ? kSpace
                   : unicode::is_letter(ch)    ? kLetter
                   : unicode::is_number(ch)    ? kNumber
                                               : kOther;
        }
    }
};
const AsciiClasses kAscii;

inline uint8_t class_at(std::string_view s, size_t i, size_t& len) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
        len = 1;
        return kAscii.c[b];
    }
    char32_t cp;
    len = unicode::decode_utf8(s, i, cp);
    if (len == 0) {
        len = 1;
        return kOther;
    }
    if (unicode::is_white_space(cp)) return kSpace;
    unicode::Category k = unicode::category(cp);
    return unicode::in_letter(k) ? kLetter : unicode::in_number(k) ? kNumber : kOther;
}

}  // namespace

void gpt2_split(std::string_view s, uint32_t begin, uint32_t end, std::vector<PieceRange>& out) {
    size_t i = begin;
    auto emit = [&](size_t a, size_t b) { out.push_back({static_cast<uint32_t>(a), static_cast<uint32_t>(b)}); };
    while (i < end) {
        size_t len;
        uint8_t c = class_at(s, i, len);
        char ch = s[i];
        if (ch == '\'' && i + 1 < end) {
            char a = s[i + 1];
            if (a == 's' || a == 't' || a == 'm' || a == 'd') {
                emit(i, i + 2);
                i += 2;
                continue;
            }
            if (i + 2 < end) {
                char b = s[i + 2];
                if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
                    emit(i, i + 3);
                    i += 3;
                    continue;
                }
            }
        }
        size_t j = i + len;
        if (ch == ' ' && j < end) {
            size_t l2;
            uint8_t n = class_at(s, j, l2);
            if (n != kSpace) {
                c = n;
                j += l2;
            }
        }
        if (c != kSpace) {
            size_t l;
            while (j < end && class_at(s, j, l) == c) j += l;
            emit(i, j);
            i = j;
            continue;
        }
        size_t last_start = i, l;
        while (j < end && class_at(s, j, l) == kSpace) {
            last_start = j;
            j += l;
        }
        if (j < end && last_start > i) j = last_start;  // \s+(?!\S) leaves the last one
        emit(i, j);
        i = j;
    }
}

// ---------------------------------------------------------------------------------------------
// Config

namespace {

Result<PreTokenizer::Behavior> parse_behavior(const json& j, const std::string& where) {
    static const std::pair<const char*, PreTokenizer::Behavior> kNames[] = {
        {"Removed", PreTokenizer::Behavior::Removed},
        {"Isolated", PreTokenizer::Behavior::Isolated},
        {"MergedWithPrevious", PreTokenizer::Behavior::MergedWithPrevious},
        {"MergedWithNext", PreTokenizer::Behavior::MergedWithNext},
        {"Contiguous", PreTokenizer::Behavior::Contiguous}};
    auto it = j.find("behavior");
    if (it == j.end() || it->is_null()) return PreTokenizer::Behavior::Isolated;
    if (it->is_string())
        for (auto& [name, b] : kNames)
            if (*it == name) return b;
    return Error{where + ": unsupported split behavior " + it->dump()};
}

bool get_bool(const json& j, const char* key, bool fallback) {
    auto it = j.find(key);
    return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

std::string escape_literal(const std::string& s) {
    std::string r;
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x80 && !std::isalnum(u)) r += '\\';
        r += c;
    }
    return r;
}

}  // namespace

Status PreTokenizer::parse_step(const json& j, const std::string& where, std::vector<Step>& out) {
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
        return Error{where + ": pre_tokenizer entry without a \"type\": " + j.dump().substr(0, 200)};
    const std::string type = j["type"].get<std::string>();
    const std::string here = where + ": pre_tokenizer " + type;
    if (type == "Sequence") {
        auto it = j.find("pretokenizers");
        if (it == j.end() || !it->is_array()) return Error{here + ": missing \"pretokenizers\" array"};
        for (const auto& sub : *it)
            if (auto s = parse_step(sub, where, out); !s) return s;
        return {};
    }
    Step st;
    if (type == "Punctuation") {
        st.kind = Step::Punctuation;
        auto b = parse_behavior(j, here);
        if (!b) return b.status();
        st.behavior = *b;
    } else if (type == "Digits") {
        st.kind = Step::Digits;
        st.individual_digits = get_bool(j, "individual_digits", false);
        st.behavior = st.individual_digits ? Behavior::Isolated : Behavior::Contiguous;
    } else if (type == "ByteLevel") {
        st.kind = Step::ByteLevel;
        st.add_prefix_space = get_bool(j, "add_prefix_space", true);
        st.use_regex = get_bool(j, "use_regex", true);
    } else if (type == "Split") {
        st.kind = Step::Split;
        auto b = parse_behavior(j, here);
        if (!b) return b.status();
        st.behavior = *b;
        st.invert = get_bool(j, "invert", false);
        auto pat = j.find("pattern");
        if (pat == j.end() || !pat->is_object()) return Error{here + ": missing \"pattern\" object"};
        std::string regex;
        if (pat->contains("Regex") && (*pat)["Regex"].is_string()) {
            regex = (*pat)["Regex"].get<std::string>();
            st.gpt2_fast = regex == kGpt2Pattern;
        } else if (pat->contains("String") && (*pat)["String"].is_string()) {
            regex = escape_literal((*pat)["String"].get<std::string>());
        } else {
            return Error{here + ": pattern must be {\"String\": ...} or {\"Regex\": ...}, got " + pat->dump()};
        }
        if (regex.empty()) return Error{here + ": empty split pattern"};
        auto re = TokRegex::compile(regex);
        if (!re) return Error{here + ": " + re.error()};
        st.regex = std::make_shared<const TokRegex>(std::move(re.value()));
        // Bytes whose byte-level character can start a match (prefilter after ByteLevel).
        st.first_byte_known = st.regex->has_first_set();
        const auto& chars = byte_level_chars();
        for (int k = 0; k < 256; ++k) st.first_byte[k] = st.regex->can_start_with(chars[k]);
    } else {
        return Error{here + " is not supported (supported: Sequence, Punctuation, ByteLevel, Digits, Split)"};
    }
    out.push_back(std::move(st));
    return {};
}

Result<PreTokenizer> PreTokenizer::from_json(const json& normalizer, const json& pre_tokenizer,
                                             const std::string& where) {
    PreTokenizer p;
    // Normalizer: null, NFC, or a Sequence of NFC.
    std::vector<const json*> norms;
    if (normalizer.is_object()) norms.push_back(&normalizer);
    for (size_t k = 0; k < norms.size(); ++k) {
        const json& n = *norms[k];
        std::string type = n.contains("type") && n["type"].is_string() ? n["type"].get<std::string>() : "";
        if (type == "Sequence" && n.contains("normalizers") && n["normalizers"].is_array()) {
            for (const auto& sub : n["normalizers"]) norms.push_back(&sub);
        } else if (type == "NFC") {
            p.nfc_ = true;
        } else {
            return Error{where + ": normalizer " + (type.empty() ? n.dump().substr(0, 200) : type) +
                         " is not supported (only NFC or none)"};
        }
    }
    if (!normalizer.is_null() && !normalizer.is_object())
        return Error{where + ": \"normalizer\" must be an object or null"};
    if (pre_tokenizer.is_null())
        return Error{where + ": no pre_tokenizer; only byte-level BPE (ByteLevel pre-tokenizer) is supported"};
    if (auto s = parse_step(pre_tokenizer, where, p.steps_); !s) return s;
    int byte_levels = 0;
    for (const auto& st : p.steps_) byte_levels += st.kind == Step::ByteLevel;
    if (byte_levels != 1)
        return Error{where + ": the pre_tokenizer must contain exactly one ByteLevel step (found " +
                     std::to_string(byte_levels) + "); only byte-level BPE is supported"};
    p.byte_level_ = true;
    return p;
}

// ---------------------------------------------------------------------------------------------
// Running

namespace {

struct Seg {
    uint32_t begin, end;
    bool match;
};

void apply_behavior(std::vector<Seg>& segs, PreTokenizer::Behavior b, bool invert, std::vector<PieceRange>& out) {
    using B = PreTokenizer::Behavior;
    if (invert)
        for (auto& s : segs) s.match = !s.match;
    auto push = [&](uint32_t a, uint32_t e) {
        if (e > a) out.push_back({a, e});
    };
    switch (b) {
    case B::Isolated:
        for (auto& s : segs) push(s.begin, s.end);
        break;
    case B::Removed:
        for (auto& s : segs)
            if (!s.match) push(s.begin, s.end);
        break;
    case B::Contiguous:
    case B::MergedWithPrevious: {
        size_t first = out.size();
        bool prev = false;
        for (auto& s : segs) {
            bool merge = b == B::Contiguous ? s.match == prev : (s.match && !prev);
            if (merge && out.size() > first)
                out.back().end = s.end;
            else
                out.push_back({s.begin, s.end});
            prev = s.match;
        }
        out.erase(std::remove_if(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
                                 [](const PieceRange& r) { return r.end == r.begin; }),
                  out.end());
        break;
    }
    case B::MergedWithNext: {
        std::vector<PieceRange> rev;
        bool prev = false;
        for (size_t k = segs.size(); k-- > 0;) {
            const auto& s = segs[k];
            if (s.match && !prev && !rev.empty())
                rev.back().begin = s.begin;
            else
                rev.push_back({s.begin, s.end});
            prev = s.match;
        }
        for (size_t k = rev.size(); k-- > 0;) push(rev[k].begin, rev[k].end);
        break;
    }
    }
}

// Which bytes' byte-level characters satisfy a predicate.
struct MappedTable {
    std::array<bool, 256> hit{};
    explicit MappedTable(bool (*pred)(char32_t)) {
        for (int b = 0; b < 256; ++b) hit[b] = pred(byte_level_chars()[b]);
    }
};
const MappedTable kMappedNumber(unicode::is_number);
const MappedTable kMappedPunct(unicode::is_hf_punctuation);

// The character at byte `i` and its length in bytes: in byte-level mapped text every byte is
// one character (its mapped code point); otherwise UTF-8, where an invalid byte reads as one
// U+FFFD.
uint32_t next_char(const std::string& buf, uint32_t i, bool mapped, char32_t& cp) {
    if (mapped) {
        cp = byte_level_chars()[static_cast<unsigned char>(buf[i])];
        return 1;
    }
    const auto n = static_cast<uint32_t>(unicode::decode_utf8(buf, i, cp));
    if (n != 0) return n;
    cp = 0xFFFD;
    return 1;
}

// Splits a piece where single characters satisfy `pred` (each such character is a match).
template <typename Pred>
void char_split(const std::string& buf, PieceRange p, bool mapped, Pred pred, std::vector<Seg>& segs) {
    segs.clear();
    for (uint32_t i = p.begin; i < p.end;) {
        char32_t cp = 0;
        const uint32_t n = next_char(buf, i, mapped, cp);
        bool m = pred(cp);
        if (!m && !segs.empty() && !segs.back().match)
            segs.back().end = i + n;
        else
            segs.push_back({i, i + n, m});
        i += n;
    }
}

}  // namespace

Status PreTokenizer::run(std::string_view text, std::string& buf, std::vector<PieceRange>& pieces) const {
    if (nfc_)
        buf = nfc_normalize(text);
    else
        buf.assign(text.data(), text.size());
    pieces.clear();
    if (!buf.empty()) pieces.push_back({0, static_cast<uint32_t>(buf.size())});
    bool mapped = false;
    std::vector<PieceRange> next;
    std::vector<Seg> segs;
    std::u32string wide;
    std::vector<uint32_t> offsets;
    for (const Step& st : steps_) {
        next.clear();
        switch (st.kind) {
        case Step::Punctuation:
        case Step::Digits: {
            bool (*pred)(char32_t) = st.kind == Step::Digits ? unicode::is_number : unicode::is_hf_punctuation;
            const auto& table = st.kind == Step::Digits ? kMappedNumber.hit : kMappedPunct.hit;
            for (auto p : pieces) {
                // After ByteLevel, a piece without any matching byte passes through whole.
                if (mapped && std::none_of(buf.begin() + p.begin, buf.begin() + p.end,
                                           [&](char c) { return table[static_cast<unsigned char>(c)]; })) {
                    next.push_back(p);
                    continue;
                }
                char_split(buf, p, mapped, pred, segs);
                apply_behavior(segs, st.behavior, false, next);
            }
            break;
        }
        case Step::ByteLevel: {
            if (st.add_prefix_space) {
                std::string nb;
                nb.reserve(buf.size() + pieces.size());
                for (auto& p : pieces) {
                    uint32_t b = static_cast<uint32_t>(nb.size());
                    if (buf[p.begin] != ' ') nb += ' ';
                    nb.append(buf, p.begin, p.end - p.begin);
                    p = {b, static_cast<uint32_t>(nb.size())};
                }
                buf.swap(nb);
            }
            if (st.use_regex) {
                for (auto p : pieces) gpt2_split(buf, p.begin, p.end, next);
            } else {
                next = pieces;
            }
            mapped = true;
            break;
        }
        case Step::Split:
            for (auto p : pieces) {
                if (st.gpt2_fast && !mapped && st.behavior == Behavior::Isolated && !st.invert) {
                    gpt2_split(buf, p.begin, p.end, next);
                    continue;
                }
                if (mapped && st.first_byte_known &&
                    std::none_of(buf.begin() + p.begin, buf.begin() + p.end,
                                 [&](char c) { return st.first_byte[static_cast<unsigned char>(c)]; })) {
                    segs.assign(1, Seg{p.begin, p.end, false});
                    apply_behavior(segs, st.behavior, st.invert, next);
                    continue;
                }
                wide.clear();
                offsets.clear();
                for (uint32_t i = p.begin; i < p.end;) {
                    char32_t cp = 0;
                    const uint32_t n = next_char(buf, i, mapped, cp);
                    wide += cp;
                    offsets.push_back(i);
                    i += n;
                }
                offsets.push_back(p.end);
                segs.clear();
                size_t from = 0, prev = 0;
                TokRegex::Match m;
                bool too_complex = false;
                while (from <= wide.size() && st.regex->find(wide, from, m, too_complex)) {
                    if (m.end == m.start) {
                        from = m.start + 1;
                        continue;
                    }
                    if (m.start > prev) segs.push_back({offsets[prev], offsets[m.start], false});
                    segs.push_back({offsets[m.start], offsets[m.end], true});
                    prev = from = m.end;
                }
                if (too_complex)
                    return Error{"pre-tokenizer Split regex \"" + st.regex->pattern() +
                                 "\" ran out of backtracking budget on a piece at byte " + std::to_string(p.begin)};
                if (prev < wide.size()) segs.push_back({offsets[prev], p.end, false});
                apply_behavior(segs, st.behavior, st.invert, next);
            }
            break;
        }
        pieces.swap(next);
    }
    return {};
}

}  // namespace fm
