#pragma once
// Python's Unicode case mapping, as templates see it through str.upper(), lower(), title(),
// capitalize(), isupper(), islower() and Jinja's filters: full mappings (ß -> SS, ǆ -> ǅ in
// titles, İ -> i̇), final sigma, and the Cased / Case_Ignorable properties, from tables
// generated from the Unicode Character Database (tests/tools/reference/gen_case_tables.py) for the
// Unicode version of the Python that renders the reference outputs. Internal to fm_jinja.

#include <string>
#include <string_view>

namespace fm::jinja::unicode {

bool is_lowercase(char32_t c);  // Unicode's Lowercase property
bool is_uppercase(char32_t c);  // Uppercase
bool is_titlecase(char32_t c);  // general category Lt
bool is_cased(char32_t c);      // Lowercase, Uppercase or Lt
bool is_case_ignorable(char32_t c);
// Python's str.isalpha(), isdecimal(), isdigit(), isalnum() of one character.
bool is_alpha(char32_t c);
bool is_decimal(char32_t c);
bool is_digit(char32_t c);
bool is_alnum(char32_t c);

// Appends c's full mapping to `out`.
void append_lower(char32_t c, std::u32string& out);
void append_upper(char32_t c, std::u32string& out);
void append_title(char32_t c, std::u32string& out);

// Python's str methods.
std::u32string lower(std::u32string_view s);
std::u32string upper(std::u32string_view s);
std::u32string title(std::u32string_view s);
std::u32string capitalize(std::u32string_view s);

}  // namespace fm::jinja::unicode
