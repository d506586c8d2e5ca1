#include "inference/jinja/unicode/case_mapping.h"

#include <algorithm>

#include "inference/jinja/unicode/case_tables.h"

namespace fm::jinja::unicode {
namespace {

unsigned char flags_of(char32_t c) {
    const PropertyRun* end = kCaseProperties + kCasePropertyCount;
    const PropertyRun* it =
        std::upper_bound(kCaseProperties, end, c, [](char32_t cp, const PropertyRun& run) { return cp < run.first; });
    if (it == kCaseProperties) return 0;
    --it;
    return c <= it->last ? it->flags : 0;
}

const CaseMapping* mapping_of(char32_t c) {
    if (c < 0x41) return nullptr;
    const CaseMapping* end = kCaseMappings + kCaseMappingCount;
    const CaseMapping* it =
        std::lower_bound(kCaseMappings, end, c, [](const CaseMapping& m, char32_t cp) { return m.code_point < cp; });
    return it != end && it->code_point == c ? it : nullptr;
}

void append_mapped(char32_t c, char32_t value, std::u32string& out) {
    if (value == 0) {
        out.push_back(c);
    } else if (value >= kMulti) {
        const MultiMapping& m = kMultiMappings[value - kMulti];
        out.append(m.code_points, m.length);
    } else {
        out.push_back(value);
    }
}

// Python's lower() of s[i]: capital sigma is final (ς) after a cased letter and not before one,
// case-ignorable characters skipped on both sides.
void append_lower_at(std::u32string_view s, size_t i, std::u32string& out) {
    const char32_t c = s[i];
    if (c != 0x3A3) {
        append_lower(c, out);
        return;
    }
    size_t j = i;
    while (j > 0 && is_case_ignorable(s[j - 1])) --j;
    bool final_sigma = j > 0 && is_cased(s[j - 1]);
    if (final_sigma) {
        size_t k = i + 1;
        while (k < s.size() && is_case_ignorable(s[k])) ++k;
        final_sigma = k == s.size() || !is_cased(s[k]);
    }
    out.push_back(final_sigma ? 0x3C2 : 0x3C3);
}

}  // namespace

bool is_lowercase(char32_t c) {
    return (flags_of(c) & kLowercase) != 0;
}
bool is_uppercase(char32_t c) {
    return (flags_of(c) & kUppercase) != 0;
}
bool is_titlecase(char32_t c) {
    return (flags_of(c) & kTitlecase) != 0;
}
bool is_cased(char32_t c) {
    return (flags_of(c) & (kLowercase | kUppercase | kTitlecase)) != 0;
}
bool is_case_ignorable(char32_t c) {
    return (flags_of(c) & kCaseIgnorable) != 0;
}
bool is_alpha(char32_t c) {
    return (flags_of(c) & kAlpha) != 0;
}
bool is_decimal(char32_t c) {
    return (flags_of(c) & kDecimal) != 0;
}
bool is_digit(char32_t c) {
    return (flags_of(c) & (kDecimal | kDigit)) != 0;
}
bool is_alnum(char32_t c) {
    return (flags_of(c) & (kAlpha | kDecimal | kDigit | kNumeric)) != 0;
}

void append_lower(char32_t c, std::u32string& out) {
    if (c < 0x80) {
        out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
        return;
    }
    const CaseMapping* m = mapping_of(c);
    append_mapped(c, m ? m->lower : 0, out);
}

void append_upper(char32_t c, std::u32string& out) {
    if (c < 0x80) {
        out.push_back(c >= 'a' && c <= 'z' ? c - 32 : c);
        return;
    }
    const CaseMapping* m = mapping_of(c);
    append_mapped(c, m ? m->upper : 0, out);
}

void append_title(char32_t c, std::u32string& out) {
    if (c < 0x80) {
        out.push_back(c >= 'a' && c <= 'z' ? c - 32 : c);
        return;
    }
    const CaseMapping* m = mapping_of(c);
    append_mapped(c, m ? m->title : 0, out);
}

std::u32string lower(std::u32string_view s) {
    std::u32string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) append_lower_at(s, i, out);
    return out;
}

std::u32string upper(std::u32string_view s) {
    std::u32string out;
    out.reserve(s.size());
    for (char32_t c : s) append_upper(c, out);
    return out;
}

std::u32string title(std::u32string_view s) {
    std::u32string out;
    out.reserve(s.size());
    bool previous_is_cased = false;
    for (size_t i = 0; i < s.size(); ++i) {
        if (previous_is_cased)
            append_lower_at(s, i, out);
        else
            append_title(s[i], out);
        previous_is_cased = is_cased(s[i]);
    }
    return out;
}

std::u32string capitalize(std::u32string_view s) {
    std::u32string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (i == 0)
            append_title(s[i], out);
        else
            append_lower_at(s, i, out);
    }
    return out;
}

}  // namespace fm::jinja::unicode
