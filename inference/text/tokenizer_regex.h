#pragma once
// A small backtracking regular expression engine for tokenizer.json "Split" patterns, over code
// points. Supports the Oniguruma subset that tokenizer patterns use: literals, '.', classes
// [...] with ranges and negation, \s \S \d \D \w \W, \p{..} / \P{..} general categories
// (L, Lu, N, Nd, P, ...), groups (...) and (?:...), alternation, greedy and lazy quantifiers
// (? * + {n} {n,} {n,m}), lookahead (?=...) (?!...), anchors ^ $ \A \z. Anything else
// (lookbehind, backreferences, flags like (?i), possessive quantifiers, scripts) is refused at
// compile time with a message naming the construct and its offset in the pattern.
// Semantics are leftmost-first like Oniguruma: \s is White_Space, \d is Nd, \w is Alphabetic|M|Nd|Pc
// (unicode::is_onig_word), classes at Unicode 16.0 as in Hugging Face's build of Oniguruma.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "inference/core/result.h"

namespace fm {

class TokRegex {
public:
    static Result<TokRegex> compile(std::string_view pattern);

    struct Match {
        size_t start = 0, end = 0;
    };
    // First match starting at or after `from`. Returns false when there is none. Sets
    // `too_complex` (and returns false) when the backtracking budget runs out.
    bool find(std::u32string_view text, size_t from, Match& m, bool& too_complex) const;

    const std::string& pattern() const { return pattern_; }
    // True when every match starts with a character of one known set (the first instruction).
    bool has_first_set() const;
    // Whether a match can start with c (always true without a first set).
    bool can_start_with(char32_t c) const;

    struct CharSet;
    struct Inst;

    TokRegex();
    ~TokRegex();
    TokRegex(TokRegex&&) noexcept;
    TokRegex& operator=(TokRegex&&) noexcept;

private:
    bool run(std::u32string_view text, size_t pc, size_t pos, size_t& end, long& budget) const;

    std::string pattern_;
    std::vector<Inst> prog_;
    std::vector<CharSet> sets_;
};

}  // namespace fm
