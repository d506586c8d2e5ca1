#include "inference/text/tokenizer_regex.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "inference/text/unicode_tables.h"

namespace fm {

// A class item: a range of code points or a property (optionally negated).
struct TokRegex::CharSet {
    enum Prop : uint8_t { Category, CategoryGroup, Space, Digit, Word, Dot };
    struct PropItem {
        Prop prop;
        uint8_t value;  // category index or group letter
        bool negated;
    };
    bool negated = false;
    std::vector<std::pair<char32_t, char32_t>> ranges;
    std::vector<PropItem> props;
    uint64_t ascii[2] = {0, 0};  // precomputed answer for code points below 128

    static bool prop_match(const PropItem& p, char32_t c) {
        using namespace unicode;
        bool r = false;
        switch (p.prop) {
        case Category: r = static_cast<uint8_t>(category(c)) == p.value; break;
        case CategoryGroup: {
            unicode::Category k = category(c);
            switch (p.value) {
            case 'L': r = in_letter(k); break;
            case 'M': r = in_mark(k); break;
            case 'N': r = in_number(k); break;
            case 'P': r = in_punct(k); break;
            case 'S': r = in_symbol(k); break;
            case 'Z': r = in_separator(k); break;
            case 'C': r = in_other(k); break;
            default: break;
            }
            break;
        }
        case Space: r = is_white_space(c); break;
        case Digit: r = category(c) == unicode::Category::Nd; break;
        case Word: r = is_onig_word(c); break;
        case Dot: r = c != '\n'; break;
        }
        return r != p.negated;
    }
    bool slow_match(char32_t c) const {
        bool hit = false;
        for (auto& [lo, hi] : ranges)
            if (c >= lo && c <= hi) {
                hit = true;
                break;
            }
        if (!hit)
            for (auto& p : props)
                if (prop_match(p, c)) {
                    hit = true;
                    break;
                }
        return hit != negated;
    }
    void finish() {
        for (char32_t c = 0; c < 128; ++c)
            if (slow_match(c)) ascii[c >> 6] |= uint64_t(1) << (c & 63);
    }
    bool match(char32_t c) const {
        if (c < 128) return (ascii[c >> 6] >> (c & 63)) & 1;
        return slow_match(c);
    }
};

struct TokRegex::Inst {
    enum Op : uint8_t { Set, Split, Jmp, Match, LookBegin, LookEnd, Bol, Eol, Bot, Eot };
    Op op;
    bool neg = false;  // LookBegin: negative lookahead
    uint32_t x = 0;    // Set: set index; Split/Jmp: first target; LookBegin: pc after LookEnd
    uint32_t y = 0;    // Split: second target
};

namespace {

struct Node {
    enum Kind { Set, Concat, Alt, Repeat, Look, Assert, Empty } kind = Empty;
    uint32_t set = 0;
    std::vector<Node> kids;
    int min = 0, max = -1;  // Repeat; max -1 = unbounded
    bool greedy = true, neg = false;
    TokRegex::Inst::Op assert_op = TokRegex::Inst::Bol;
};

bool nullable(const Node& n) {
    switch (n.kind) {
    case Node::Set: return false;
    case Node::Concat: return std::all_of(n.kids.begin(), n.kids.end(), nullable);
    case Node::Alt: return std::any_of(n.kids.begin(), n.kids.end(), nullable);
    case Node::Repeat: return n.min == 0 || nullable(n.kids[0]);
    default: return true;
    }
}

size_t node_size(const Node& n) {
    switch (n.kind) {
    case Node::Set:
    case Node::Assert: return 1;
    case Node::Empty: return 0;
    case Node::Look: return node_size(n.kids[0]) + 2;
    case Node::Concat: {
        size_t s = 0;
        for (auto& k : n.kids) s += node_size(k);
        return s;
    }
    case Node::Alt: {
        size_t s = 0;
        for (auto& k : n.kids) s += node_size(k) + 2;
        return s;
    }
    case Node::Repeat: {
        size_t body = node_size(n.kids[0]);
        size_t reps = n.max < 0 ? size_t(n.min) + 1 : size_t(n.max);
        return reps * (body + 2);
    }
    }
    return 0;
}

class Parser {
public:
    Parser(std::string_view p, std::vector<TokRegex::CharSet>& sets) : p_(p), sets_(sets) {}

    Status parse(Node& out) {
        if (auto s = alternation(out); !s) return s;
        if (i_ < p_.size()) return fail("unbalanced ')'");
        return {};
    }

private:
    Error fail(const std::string& what) const {
        return Error{"regex \"" + std::string(p_) + "\": " + what + " at offset " + std::to_string(i_)};
    }
    bool at_end() const { return i_ >= p_.size(); }
    char peek() const { return p_[i_]; }

    Status next_cp(char32_t& c) {
        size_t n = unicode::decode_utf8(p_, i_, c);
        if (n == 0) return fail("invalid UTF-8");
        i_ += n;
        return {};
    }

    uint32_t add_set(TokRegex::CharSet s) {
        s.finish();
        sets_.push_back(std::move(s));
        return static_cast<uint32_t>(sets_.size() - 1);
    }

    Status alternation(Node& out) {
        std::vector<Node> alts(1);
        if (auto s = concat(alts.back()); !s) return s;
        while (!at_end() && peek() == '|') {
            ++i_;
            alts.emplace_back();
            if (auto s = concat(alts.back()); !s) return s;
        }
        if (alts.size() == 1) {
            out = std::move(alts[0]);
        } else {
            out.kind = Node::Alt;
            out.kids = std::move(alts);
        }
        return {};
    }

    Status concat(Node& out) {
        out.kind = Node::Concat;
        while (!at_end() && peek() != '|' && peek() != ')') {
            Node atom_node;
            if (auto s = atom(atom_node); !s) return s;
            if (auto s = quantifier(atom_node); !s) return s;
            out.kids.push_back(std::move(atom_node));
        }
        return {};
    }

    bool parse_int(int& v) {
        size_t start = i_;
        v = 0;
        while (!at_end() && peek() >= '0' && peek() <= '9' && v < 100000) v = v * 10 + (p_[i_++] - '0');
        return i_ > start;
    }

    Status quantifier(Node& n) {
        while (!at_end()) {
            int mn, mx;
            char c = peek();
            size_t save = i_;
            if (c == '*') {
                mn = 0;
                mx = -1;
                ++i_;
            } else if (c == '+') {
                mn = 1;
                mx = -1;
                ++i_;
            } else if (c == '?') {
                mn = 0;
                mx = 1;
                ++i_;
            } else if (c == '{') {
                ++i_;
                if (!parse_int(mn)) {
                    i_ = save;
                    return {};
                }  // a literal '{'
                mx = mn;
                if (!at_end() && peek() == ',') {
                    ++i_;
                    if (!parse_int(mx)) mx = -1;
                }
                if (at_end() || peek() != '}') {
                    i_ = save;
                    return {};
                }
                ++i_;
                if (mx >= 0 && mx < mn) return fail("bad repetition bounds");
                if (mn > 1000 || mx > 1000) return fail("repetition count above 1000");
            } else {
                return {};
            }
            bool greedy = true;
            if (!at_end() && peek() == '?') {
                greedy = false;
                ++i_;
            } else if (!at_end() && peek() == '+')
                return fail("possessive quantifier is not supported");
            if (n.kind == Node::Assert || n.kind == Node::Look) return fail("quantified assertion");
            if (mx < 0 && nullable(n)) return fail("repetition of an expression that can match empty is not supported");
            Node r;
            r.kind = Node::Repeat;
            r.min = mn;
            r.max = mx;
            r.greedy = greedy;
            r.kids.push_back(std::move(n));
            n = std::move(r);
        }
        return {};
    }

    Status atom(Node& n) {
        char c = peek();
        if (c == '(') {
            ++i_;
            bool look = false, neg = false;
            if (!at_end() && peek() == '?') {
                ++i_;
                if (at_end()) return fail("unterminated group");
                char k = p_[i_++];
                if (k == ':') {
                } else if (k == '=' || k == '!') {
                    look = true;
                    neg = k == '!';
                } else if (k == '<' && !at_end() && (peek() == '=' || peek() == '!')) {
                    return fail("lookbehind is not supported");
                } else {
                    return fail(std::string("group syntax (?") + k + " is not supported");
                }
            }
            Node inner;
            if (auto s = alternation(inner); !s) return s;
            if (at_end() || peek() != ')') return fail("missing ')'");
            ++i_;
            if (look) {
                n.kind = Node::Look;
                n.neg = neg;
                n.kids.push_back(std::move(inner));
            } else {
                n = std::move(inner);
            }
            return {};
        }
        if (c == '[') return char_class(n);
        if (c == '.') {
            ++i_;
            TokRegex::CharSet s;
            s.props.push_back({TokRegex::CharSet::Dot, 0, false});
            n.kind = Node::Set;
            n.set = add_set(std::move(s));
            return {};
        }
        if (c == '^' || c == '$') {
            ++i_;
            n.kind = Node::Assert;
            n.assert_op = c == '^' ? TokRegex::Inst::Bol : TokRegex::Inst::Eol;
            return {};
        }
        if (c == '*' || c == '+' || c == '?') return fail("nothing to repeat");
        TokRegex::CharSet s;
        if (c == '\\') {
            if (i_ + 1 < p_.size() && (p_[i_ + 1] == 'A' || p_[i_ + 1] == 'z')) {
                n.kind = Node::Assert;
                n.assert_op = p_[i_ + 1] == 'A' ? TokRegex::Inst::Bot : TokRegex::Inst::Eot;
                i_ += 2;
                return {};
            }
            if (auto st = escape(s, false); !st) return st;
        } else {
            char32_t cp = 0;
            if (auto st = next_cp(cp); !st) return st;
            s.ranges.push_back({cp, cp});
        }
        n.kind = Node::Set;
        n.set = add_set(std::move(s));
        return {};
    }

    Status hex(size_t digits_max, bool braced, char32_t& v) {
        v = 0;
        size_t k = 0;
        while (!at_end() && k < digits_max && std::isxdigit(static_cast<unsigned char>(peek()))) {
            char h = p_[i_++];
            v = v * 16 + static_cast<char32_t>(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
            ++k;
        }
        if (k == 0) return fail("bad hex escape");
        if (braced) {
            if (at_end() || peek() != '}') return fail("missing '}' in hex escape");
            ++i_;
        }
        if (v > 0x10FFFF) return fail("code point out of range");
        return {};
    }

    // Parses an escape after '\' into s (a single char as a range, or a property).
    Status escape(TokRegex::CharSet& s, bool in_class) {
        ++i_;  // the backslash
        if (at_end()) return fail("trailing backslash");
        char e = p_[i_++];
        using P = TokRegex::CharSet;
        auto single = [&](char32_t cp) {
            s.ranges.push_back({cp, cp});
            return Status{};
        };
        switch (e) {
        case 'n': return single('\n');
        case 't': return single('\t');
        case 'r': return single('\r');
        case 'f': return single('\f');
        case 'v': return single('\v');
        case 'a': return single('\a');
        case 'e': return single(0x1B);
        case 's':
        case 'S': s.props.push_back({P::Space, 0, e == 'S'}); return {};
        case 'd':
        case 'D': s.props.push_back({P::Digit, 0, e == 'D'}); return {};
        case 'w':
        case 'W': s.props.push_back({P::Word, 0, e == 'W'}); return {};
        case 'x': {
            char32_t v;
            bool braced = !at_end() && peek() == '{';
            if (braced) ++i_;
            if (auto st = hex(braced ? 8 : 2, braced, v); !st) return st;
            return single(v);
        }
        case 'u': {
            char32_t v;
            if (auto st = hex(4, false, v); !st) return st;
            return single(v);
        }
        case 'p':
        case 'P': return property(s, e == 'P');
        default: break;
        }
        if (std::isalnum(static_cast<unsigned char>(e)))
            return fail(std::string("escape \\") + e + (in_class ? " in a class" : "") + " is not supported");
        --i_;
        char32_t cp = 0;
        if (auto st = next_cp(cp); !st) return st;
        return single(cp);
    }

    Status property(TokRegex::CharSet& s, bool negated) {
        std::string name;
        if (!at_end() && peek() == '{') {
            ++i_;
            size_t close = p_.find('}', i_);
            if (close == std::string_view::npos) return fail("missing '}' in \\p{...}");
            name = std::string(p_.substr(i_, close - i_));
            i_ = close + 1;
        } else if (!at_end()) {
            name = std::string(1, p_[i_++]);
        }
        if (!name.empty() && name[0] == '^') {
            negated = !negated;
            name.erase(0, 1);
        }
        static const char* const kNames[] = {"Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd",
                                             "Nl", "No", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm",
                                             "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co"};
        using P = TokRegex::CharSet;
        if (name.size() == 1 && std::string_view("LMNPSZC").find(name[0]) != std::string_view::npos) {
            s.props.push_back({P::CategoryGroup, static_cast<uint8_t>(name[0]), negated});
            return {};
        }
        for (uint8_t k = 0; k < 30; ++k) {
            if (name == kNames[k]) {
                s.props.push_back({P::Category, k, negated});
                return {};
            }
        }
        return fail("property \\p{" + name + "} is not supported (only general categories)");
    }

    Status char_class(Node& n) {
        ++i_;  // '['
        TokRegex::CharSet s;
        if (!at_end() && peek() == '^') {
            s.negated = true;
            ++i_;
        }
        bool first = true;
        while (true) {
            if (at_end()) return fail("missing ']'");
            char c = peek();
            if (c == ']' && !first) {
                ++i_;
                break;
            }
            first = false;
            if (c == '[') return fail("nested class or POSIX bracket is not supported");
            if (c == '&' && i_ + 1 < p_.size() && p_[i_ + 1] == '&') return fail("class intersection is not supported");
            TokRegex::CharSet item;
            if (c == '\\') {
                if (auto st = escape(item, true); !st) return st;
            } else {
                char32_t cp = 0;
                if (auto st = next_cp(cp); !st) return st;
                item.ranges.push_back({cp, cp});
            }
            // A range a-b (both ends single characters).
            if (item.props.empty() && i_ + 1 < p_.size() && peek() == '-' && p_[i_ + 1] != ']') {
                ++i_;
                TokRegex::CharSet hi;
                if (peek() == '\\') {
                    if (auto st = escape(hi, true); !st) return st;
                } else {
                    char32_t cp = 0;
                    if (auto st = next_cp(cp); !st) return st;
                    hi.ranges.push_back({cp, cp});
                }
                if (!hi.props.empty()) return fail("bad class range");
                if (hi.ranges[0].first < item.ranges[0].first) return fail("reversed class range");
                item.ranges[0].second = hi.ranges[0].first;
            }
            s.ranges.insert(s.ranges.end(), item.ranges.begin(), item.ranges.end());
            s.props.insert(s.props.end(), item.props.begin(), item.props.end());
        }
        n.kind = Node::Set;
        n.set = add_set(std::move(s));
        return {};
    }

    std::string_view p_;
    std::vector<TokRegex::CharSet>& sets_;
    size_t i_ = 0;
};

using Inst = TokRegex::Inst;

void emit(const Node& n, std::vector<Inst>& prog) {
    auto here = [&] { return static_cast<uint32_t>(prog.size()); };
    switch (n.kind) {
    case Node::Empty: return;
    case Node::Set: prog.push_back({Inst::Set, false, n.set, 0}); return;
    case Node::Assert: prog.push_back({n.assert_op, false, 0, 0}); return;
    case Node::Concat:
        for (auto& k : n.kids) emit(k, prog);
        return;
    case Node::Look: {
        size_t begin = prog.size();
        prog.push_back({Inst::LookBegin, n.neg, 0, 0});
        emit(n.kids[0], prog);
        prog.push_back({Inst::LookEnd, false, 0, 0});
        prog[begin].x = here();
        return;
    }
    case Node::Alt: {
        std::vector<size_t> jumps;
        for (size_t k = 0; k < n.kids.size(); ++k) {
            size_t split = prog.size();
            bool last = k + 1 == n.kids.size();
            if (!last) prog.push_back({Inst::Split, false, 0, 0});
            if (!last) prog[split].x = here();
            emit(n.kids[k], prog);
            if (!last) {
                jumps.push_back(prog.size());
                prog.push_back({Inst::Jmp, false, 0, 0});
                prog[split].y = here();
            }
        }
        for (size_t j : jumps) prog[j].x = here();
        return;
    }
    case Node::Repeat: {
        const Node& body = n.kids[0];
        for (int k = 0; k < n.min; ++k) emit(body, prog);
        auto split_to = [&](size_t split, uint32_t body_pc, uint32_t out_pc) {
            prog[split].x = n.greedy ? body_pc : out_pc;
            prog[split].y = n.greedy ? out_pc : body_pc;
        };
        if (n.max < 0) {
            size_t split = prog.size();
            prog.push_back({Inst::Split, false, 0, 0});
            uint32_t body_pc = here();
            emit(body, prog);
            prog.push_back({Inst::Jmp, false, static_cast<uint32_t>(split), 0});
            split_to(split, body_pc, here());
        } else {
            std::vector<size_t> splits;
            for (int k = n.min; k < n.max; ++k) {
                splits.push_back(prog.size());
                prog.push_back({Inst::Split, false, 0, 0});
                prog[splits.back()].x = here();  // body pc, fixed up below
                emit(body, prog);
            }
            for (size_t s : splits) split_to(s, prog[s].x, here());
        }
        return;
    }
    }
}

}  // namespace

TokRegex::TokRegex() = default;
TokRegex::~TokRegex() = default;
TokRegex::TokRegex(TokRegex&&) noexcept = default;
TokRegex& TokRegex::operator=(TokRegex&&) noexcept = default;

Result<TokRegex> TokRegex::compile(std::string_view pattern) {
    TokRegex re;
    re.pattern_ = std::string(pattern);
    Node root;
    Parser parser(pattern, re.sets_);
    if (auto s = parser.parse(root); !s) return Error{s.error()};
    if (node_size(root) > 100000)
        return Error{"regex \"" + std::string(pattern) + "\": pattern too large after expanding repetitions"};
    emit(root, re.prog_);
    re.prog_.push_back({Inst::Match, false, 0, 0});
    return re;
}

// Leftmost-first backtracking from (pc, pos). Returns true with `end` at the first Match (or
// LookEnd when running a lookahead body).
bool TokRegex::run(std::u32string_view text, size_t pc0, size_t pos0, size_t& end, long& budget) const {
    std::vector<std::pair<uint32_t, size_t>> stack;
    stack.push_back({static_cast<uint32_t>(pc0), pos0});
    while (!stack.empty()) {
        auto [pc, pos] = stack.back();
        stack.pop_back();
        while (true) {
            if (--budget < 0) return false;
            const Inst& in = prog_[pc];
            bool ok = true;
            switch (in.op) {
            case Inst::Set:
                ok = pos < text.size() && sets_[in.x].match(text[pos]);
                if (ok) {
                    ++pc;
                    ++pos;
                }
                break;
            case Inst::Split:
                stack.push_back({in.y, pos});
                pc = in.x;
                break;
            case Inst::Jmp: pc = in.x; break;
            case Inst::Match:
            case Inst::LookEnd: end = pos; return true;
            case Inst::LookBegin: {
                size_t e;
                bool hit = run(text, pc + 1, pos, e, budget);
                if (budget < 0) return false;
                ok = hit != in.neg;
                if (ok) pc = in.x;
                break;
            }
            case Inst::Bol:
                ok = pos == 0 || text[pos - 1] == '\n';
                ++pc;
                break;
            case Inst::Eol:
                ok = pos == text.size() || text[pos] == '\n';
                ++pc;
                break;
            case Inst::Bot:
                ok = pos == 0;
                ++pc;
                break;
            case Inst::Eot:
                ok = pos == text.size();
                ++pc;
                break;
            }
            if (!ok) break;
        }
    }
    return false;
}

bool TokRegex::has_first_set() const {
    return !prog_.empty() && prog_[0].op == Inst::Set;
}

bool TokRegex::can_start_with(char32_t c) const {
    return !has_first_set() || sets_[prog_[0].x].match(c);
}

bool TokRegex::find(std::u32string_view text, size_t from, Match& m, bool& too_complex) const {
    too_complex = false;
    long budget = 20'000'000;
    // A first instruction that is a plain set lets us skip impossible start positions quickly.
    const CharSet* first = prog_.empty() || prog_[0].op != Inst::Set ? nullptr : &sets_[prog_[0].x];
    for (size_t start = from; start <= text.size(); ++start) {
        if (first && (start == text.size() || !first->match(text[start]))) continue;
        size_t end;
        if (run(text, 0, start, end, budget)) {
            m = {start, end};
            return true;
        }
        if (budget < 0) {
            too_complex = true;
            return false;
        }
    }
    return false;
}

}  // namespace fm
