#pragma once
// The generated Unicode case and character-class tables (case_mappings.cpp and case_properties.cpp, written by
// tests/tools/reference/gen_case_tables.py). Read through case_mapping.h. Internal to fm_jinja.

#include <cstddef>

namespace fm::jinja::unicode {

// Mapping values from kMulti on are kMultiMappings[value - kMulti]; 0 means "itself".
constexpr char32_t kMulti = 0x110000;

struct CaseMapping {
    char32_t code_point, lower, upper, title;
};
struct MultiMapping {
    unsigned char length;
    char32_t code_points[3];
};

enum : unsigned char {
    kLowercase = 1,
    kUppercase = 2,
    kTitlecase = 4,
    kCaseIgnorable = 8,
    kAlpha = 16,    // general category L*
    kDecimal = 32,  // UnicodeData's decimal digit value
    kDigit = 64,    // UnicodeData's digit value
    kNumeric = 128  // UnicodeData's numeric value
};
struct PropertyRun {
    char32_t first, last;
    unsigned char flags;
};

extern const CaseMapping kCaseMappings[];  // sorted by code point
extern const size_t kCaseMappingCount;
extern const MultiMapping kMultiMappings[];
extern const size_t kMultiMappingCount;
extern const PropertyRun kCaseProperties[];  // sorted, disjoint
extern const size_t kCasePropertyCount;

}  // namespace fm::jinja::unicode
