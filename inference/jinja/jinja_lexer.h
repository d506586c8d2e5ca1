#pragma once
// Splits a chat template into text and tag tokens, the way Jinja2 does with the settings
// Hugging Face renders chat templates with: trim_blocks and lstrip_blocks on, `-`/`+`
// whitespace control, newlines normalized to \n, one trailing newline dropped.
// Internal to the inference library.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fm::jinja {

enum class TokenKind {
    Text,        // template data, whitespace control already applied
    VarBegin,    // {{
    VarEnd,      // }}
    BlockBegin,  // {%
    BlockEnd,    // %}
    Name,
    String,  // text holds the unescaped value
    Integer,
    Float,
    Operator,  // text holds the operator: + - * / // % ** ~ == != < <= > >= = . : | , ( ) [ ] { }
    End,
};

struct Token {
    TokenKind kind = TokenKind::End;
    std::string text;
    int64_t int_value = 0;
    double float_value = 0.0;
    int line = 1;    // 1-based
    int column = 1;  // 1-based, in bytes
};

// Throws TemplateError (with line and column) on unclosed tags, comments or strings and on
// characters that cannot start a token.
std::vector<Token> tokenize(std::string_view source);

}  // namespace fm::jinja
