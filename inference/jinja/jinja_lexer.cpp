#include "inference/jinja/jinja_lexer.h"

#include <algorithm>
#include <cstring>
#include <tuple>

#include "inference/jinja/jinja_value.h"

namespace fm::jinja {
namespace {

std::string normalize_source(std::string_view src) {
    std::string out;
    out.reserve(src.size());
    for (size_t i = 0; i < src.size(); ++i) {
        if (src[i] == '\r') {
            out.push_back('\n');
            if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
        } else {
            out.push_back(src[i]);
        }
    }
    if (!out.empty() && out.back() == '\n') out.pop_back();  // keep_trailing_newline=False
    return out;
}

bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_name_char(char c) {
    return is_name_start(c) || is_digit(c);
}

class Lexer {
public:
    explicit Lexer(std::string_view source) : s_(normalize_source(source)) {
        line_starts_.push_back(0);
        for (size_t i = 0; i < s_.size(); ++i)
            if (s_[i] == '\n') line_starts_.push_back(i + 1);
    }

    std::vector<Token> run() {
        size_t pos = 0;
        while (pos < s_.size()) {
            size_t tag = find_tag(pos);
            if (tag == std::string::npos) {
                emit_text(pos, s_.substr(pos));
                break;
            }
            char type = s_[tag + 1];
            char sign = tag + 2 < s_.size() && (s_[tag + 2] == '-' || s_[tag + 2] == '+') ? s_[tag + 2] : 0;
            size_t inner = tag + 2 + (sign ? 1 : 0);
            size_t raw_end = type == '%' ? match_raw_begin(inner) : std::string::npos;
            std::string text = s_.substr(pos, tag - pos);
            apply_left_controls(text, sign, type != '{');
            emit_text(pos, std::move(text));
            if (type == '#') {
                pos = lex_comment(tag, inner);
            } else if (raw_end != std::string::npos) {
                pos = lex_raw(tag, raw_end);
            } else {
                pos = lex_tag(tag, type, inner);
            }
        }
        Token end;
        end.kind = TokenKind::End;
        std::tie(end.line, end.column) = position(s_.size());
        out_.push_back(end);
        return std::move(out_);
    }

private:
    std::pair<int, int> position(size_t offset) const {
        auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
        size_t line = static_cast<size_t>(it - line_starts_.begin());
        return {static_cast<int>(line), static_cast<int>(offset - line_starts_[line - 1] + 1)};
    }

    [[noreturn]] void error_at(size_t offset, std::string message) const {
        auto [line, column] = position(offset);
        throw TemplateError{std::move(message), line, column};
    }

    bool starts_with(size_t pos, const char* lit) const {
        size_t n = std::strlen(lit);
        return pos + n <= s_.size() && s_.compare(pos, n, lit) == 0;
    }

    size_t find_tag(size_t pos) const {
        for (size_t i = s_.find('{', pos); i != std::string::npos; i = s_.find('{', i + 1)) {
            if (i + 1 < s_.size() && (s_[i + 1] == '{' || s_[i + 1] == '%' || s_[i + 1] == '#')) return i;
        }
        return std::string::npos;
    }

    // Length of the whitespace character (Python's \s) at pos, 0 if none.
    size_t space_at(size_t pos) const {
        if (pos >= s_.size()) return 0;
        auto c = static_cast<unsigned char>(s_[pos]);
        if (c < 0x80) return is_space(c) ? 1 : 0;
        size_t len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
        if (pos + len > s_.size()) return 0;
        std::u32string cp = utf8_decode(std::string_view(s_).substr(pos, len));
        return cp.size() == 1 && is_space(cp[0]) ? len : 0;
    }

    size_t skip_spaces(size_t pos) const {
        while (size_t n = space_at(pos)) pos += n;
        return pos;
    }

    static bool all_space(std::string_view text) {
        if (text.empty()) return false;
        for (char32_t c : utf8_decode(text))
            if (!is_space(c)) return false;
        return true;
    }

    static std::string rstrip(const std::string& text) {
        std::u32string cps = utf8_decode(text);
        while (!cps.empty() && is_space(cps.back())) cps.pop_back();
        return utf8_encode(cps);
    }

    // `{%-` strips all whitespace before the tag; lstrip_blocks strips the spaces between the
    // start of the line and a block or comment tag, unless the tag says `{%+`.
    void apply_left_controls(std::string& text, char sign, bool block_or_comment) const {
        if (sign == '-') {
            text = rstrip(text);
        } else if (sign != '+' && block_or_comment) {
            size_t nl = text.rfind('\n');
            size_t line_start = nl == std::string::npos ? 0 : nl + 1;
            if ((line_start > 0 || line_starting_) && all_space(std::string_view(text).substr(line_start)))
                text.resize(line_start);
        }
    }

    void emit_text(size_t offset, std::string text) {
        if (text.empty()) return;
        Token t;
        t.kind = TokenKind::Text;
        t.text = std::move(text);
        std::tie(t.line, t.column) = position(offset);
        out_.push_back(std::move(t));
    }

    // After a tag's closing delimiter: `-` eats all following whitespace, trim_blocks eats one
    // newline after a block or comment unless the tag ends with `+`.
    size_t apply_right_controls(size_t pos, char sign, bool trim_newline) {
        if (sign == '-')
            pos = skip_spaces(pos);
        else if (sign != '+' && trim_newline && pos < s_.size() && s_[pos] == '\n')
            ++pos;
        line_starting_ = pos > 0 && s_[pos - 1] == '\n';
        return pos;
    }

    size_t lex_comment(size_t tag, size_t inner) {
        size_t end = s_.find("#}", inner);
        if (end == std::string::npos) error_at(tag, "unclosed comment: '{#' without '#}'");
        char sign = end > inner && (s_[end - 1] == '-' || s_[end - 1] == '+') ? s_[end - 1] : 0;
        return apply_right_controls(end + 2, sign, true);
    }

    // `{% raw %}` (no trim_blocks after it, as in Jinja2): returns the offset after its `%}`.
    size_t match_raw_begin(size_t inner) const {
        size_t p = skip_spaces(inner);
        if (!starts_with(p, "raw")) return std::string::npos;
        p = skip_spaces(p + 3);
        if (starts_with(p, "-%}")) return skip_spaces(p + 3);
        if (starts_with(p, "%}")) return p + 2;
        return std::string::npos;
    }

    size_t lex_raw(size_t tag, size_t body) {
        line_starting_ = body > 0 && s_[body - 1] == '\n';
        for (size_t i = s_.find("{%", body); i != std::string::npos; i = s_.find("{%", i + 1)) {
            size_t p = i + 2;
            char sign = p < s_.size() && (s_[p] == '-' || s_[p] == '+') ? s_[p] : 0;
            p = skip_spaces(p + (sign ? 1 : 0));
            if (!starts_with(p, "endraw")) continue;
            p = skip_spaces(p + 6);
            char end_sign = 0;
            if (starts_with(p, "-%}") || starts_with(p, "+%}")) end_sign = s_[p++];
            if (!starts_with(p, "%}")) continue;
            std::string text = s_.substr(body, i - body);
            apply_left_controls(text, sign, true);
            emit_text(body, std::move(text));
            return apply_right_controls(p + 2, end_sign, true);
        }
        error_at(tag, "missing '{% endraw %}' for this '{% raw %}'");
    }

    void push(TokenKind kind, size_t offset, std::string text = {}) {
        Token t;
        t.kind = kind;
        t.text = std::move(text);
        std::tie(t.line, t.column) = position(offset);
        out_.push_back(std::move(t));
    }

    size_t lex_tag(size_t tag, char type, size_t pos) {
        const bool block = type == '%';
        push(block ? TokenKind::BlockBegin : TokenKind::VarBegin, tag);
        std::string brackets;
        for (;;) {
            if (pos >= s_.size())
                error_at(tag, block ? "unclosed tag: '{%' without '%}'" : "unclosed tag: '{{' without '}}'");
            if (brackets.empty()) {
                char sign = 0;
                size_t len = 0;
                if (block) {
                    if (starts_with(pos, "-%}") || starts_with(pos, "+%}"))
                        sign = s_[pos], len = 3;
                    else if (starts_with(pos, "%}"))
                        len = 2;
                } else {
                    if (starts_with(pos, "-}}"))
                        sign = '-', len = 3;
                    else if (starts_with(pos, "}}"))
                        len = 2;
                }
                if (len) {
                    push(block ? TokenKind::BlockEnd : TokenKind::VarEnd, pos);
                    return apply_right_controls(pos + len, sign, block);
                }
            }
            if (size_t n = space_at(pos)) {
                pos += n;
                continue;
            }
            char c = s_[pos];
            if (is_name_start(c)) {
                size_t e = pos;
                while (e < s_.size() && is_name_char(s_[e])) ++e;
                push(TokenKind::Name, pos, s_.substr(pos, e - pos));
                pos = e;
            } else if (is_digit(c)) {
                pos = lex_number(pos);
            } else if (c == '\'' || c == '"') {
                pos = lex_string(pos);
            } else {
                pos = lex_operator(pos, brackets);
            }
        }
    }

    size_t lex_number(size_t start) {
        auto digits = [&](size_t p) {  // \d+(_\d+)*
            while (p < s_.size() && (is_digit(s_[p]) || (s_[p] == '_' && p + 1 < s_.size() && is_digit(s_[p + 1]))))
                ++p;
            return p;
        };
        size_t p = digits(start);
        bool is_float = false;
        if (p + 1 < s_.size() && s_[p] == '.' && is_digit(s_[p + 1])) {
            p = digits(p + 1);
            is_float = true;
        }
        if (p < s_.size() && (s_[p] == 'e' || s_[p] == 'E')) {
            size_t q = p + 1;
            if (q < s_.size() && (s_[q] == '+' || s_[q] == '-')) ++q;
            if (q < s_.size() && is_digit(s_[q])) {
                p = digits(q);
                is_float = true;
            }
        }
        std::string text;
        for (size_t i = start; i < p; ++i)
            if (s_[i] != '_') text.push_back(s_[i]);
        Token t;
        t.text = text;
        std::tie(t.line, t.column) = position(start);
        try {
            if (is_float) {
                t.kind = TokenKind::Float;
                t.float_value = std::stod(text);
            } else {
                t.kind = TokenKind::Integer;
                t.int_value = std::stoll(text);
            }
        } catch (const std::exception&) {
            error_at(start, "number out of range: " + text);
        }
        out_.push_back(std::move(t));
        return p;
    }

    size_t lex_string(size_t start) {
        const char quote = s_[start];
        std::u32string value;
        size_t p = start + 1;
        auto hex = [&](size_t at, int n) -> char32_t {
            char32_t v = 0;
            for (int k = 0; k < n; ++k) {
                size_t i = at + static_cast<size_t>(k);
                char c = i < s_.size() ? s_[i] : 0;
                int d = is_digit(c)              ? c - '0'
                        : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                        : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                 : -1;
                if (d < 0) error_at(at - 2, "truncated escape sequence in string");
                v = v * 16 + static_cast<char32_t>(d);
            }
            return v;
        };
        size_t run_start = p;
        auto flush = [&](size_t upto) {
            value += utf8_decode(std::string_view(s_).substr(run_start, upto - run_start));
        };
        while (true) {
            if (p >= s_.size()) error_at(start, "unclosed string literal");
            char c = s_[p];
            if (c == quote) break;
            if (c != '\\') {
                ++p;
                continue;
            }
            flush(p);
            if (p + 1 >= s_.size()) error_at(start, "unclosed string literal");
            char e = s_[p + 1];
            p += 2;
            switch (e) {
            case 'n': value.push_back('\n'); break;
            case 't': value.push_back('\t'); break;
            case 'r': value.push_back('\r'); break;
            case '\\': value.push_back('\\'); break;
            case '\'': value.push_back('\''); break;
            case '"': value.push_back('"'); break;
            case 'a': value.push_back('\a'); break;
            case 'b': value.push_back('\b'); break;
            case 'f': value.push_back('\f'); break;
            case 'v': value.push_back('\v'); break;
            case '\n': break;  // line continuation
            case 'x':
                value.push_back(hex(p, 2));
                p += 2;
                break;
            case 'u':
                value.push_back(hex(p, 4));
                p += 4;
                break;
            case 'U': {
                char32_t v = hex(p, 8);
                if (v > 0x10FFFF) error_at(p - 2, "invalid \\U escape in string");
                value.push_back(v);
                p += 8;
                break;
            }
            default:
                if (e >= '0' && e <= '7') {
                    char32_t v = static_cast<char32_t>(e - '0');
                    for (int k = 0; k < 2 && p < s_.size() && s_[p] >= '0' && s_[p] <= '7'; ++k, ++p)
                        v = v * 8 + static_cast<char32_t>(s_[p] - '0');
                    value.push_back(v);
                } else {  // unknown escapes stay as they are, as in Python
                    value.push_back('\\');
                    p -= 1;
                }
            }
            run_start = p;
        }
        flush(p);
        push(TokenKind::String, start, utf8_encode(value));
        return p + 1;
    }

    size_t lex_operator(size_t pos, std::string& brackets) {
        static const char* const two[] = {"//", "**", "==", "!=", "<=", ">="};
        for (const char* op : two) {
            if (starts_with(pos, op)) {
                push(TokenKind::Operator, pos, op);
                return pos + 2;
            }
        }
        char c = s_[pos];
        if (!std::strchr("+-*/%~=.:|,()[]{}<>", c) || c == 0) {
            std::string shown = static_cast<unsigned char>(c) < 0x80 ? std::string(1, c) : "non-ASCII character";
            error_at(pos, "unexpected character '" + shown + "' in tag");
        }
        if (c == '(' || c == '[' || c == '{') {
            brackets.push_back(c);
        } else if (c == ')' || c == ']' || c == '}') {
            char open = c == ')' ? '(' : c == ']' ? '[' : '{';
            if (brackets.empty()) error_at(pos, std::string("unexpected '") + c + "'");
            if (brackets.back() != open)
                error_at(pos, std::string("unexpected '") + c + "', expected the match of '" + brackets.back() + "'");
            brackets.pop_back();
        }
        push(TokenKind::Operator, pos, std::string(1, c));
        return pos + 1;
    }

    std::string s_;
    std::vector<size_t> line_starts_;
    std::vector<Token> out_;
    bool line_starting_ = true;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) {
    return Lexer(source).run();
}

}  // namespace fm::jinja
