// Tokenizer against Hugging Face `tokenizers` on a generated corpus (tests/tools/
// gen_tokenizer_corpus.mjs): strings over every block of Unicode 16 and a probe of every code
// point whose letter/number/punctuation class differs between Unicode 8.0 and 16.0, in four
// contexts. Both special-token modes must give exactly HF's ids. Also the word characters of
// single_word added tokens and HF's NFC normalizer.

#include <QtTest>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "inference/text/bpe_tokenizer.h"
#include "inference/text/pretokenizer.h"
#include "inference/text/tokenizer.h"
#include "inference/text/tokenizer_regex.h"
#include "inference/text/unicode_tables.h"

namespace {

const std::string kFalcon = std::string(FM_TEST_DATA_DIR) + "/tokenizers/falcon-tokenizer";

std::string escaped(const std::string& s) {
    return nlohmann::json(s).dump(-1, ' ', true);
}

std::string ids_text(const std::vector<int32_t>& v) {
    return nlohmann::json(v).dump();
}

struct Tally {
    size_t total = 0, exact = 0;
    std::vector<std::string> first_misses;
    void check(const fm::Tokenizer& t, const std::string& text, bool parse, const std::vector<int32_t>& want) {
        ++total;
        auto got = t.encode(text, parse);
        if (got && *got == want) {
            ++exact;
            return;
        }
        if (first_misses.size() < 10)
            first_misses.push_back(escaped(text) + (parse ? " (parse)" : " (plain)") + ": HF " + ids_text(want) +
                                   ", ours " + (got ? ids_text(*got) : got.error()));
    }
    void report(const char* what) const {
        qInfo("%s: %zu of %zu exact (%.4f%%)", what, exact, total, total ? 100.0 * double(exact) / double(total) : 0.0);
        for (const auto& m : first_misses) qWarning("  %s", m.c_str());
    }
};

}  // namespace

class TestTokenizerCorpus : public QObject {
    Q_OBJECT

    std::unique_ptr<fm::Tokenizer> tok_;

    // Every line of a JSONL file of HF's ids checked in both modes (special tokens parsed, and
    // as text): at least `at_least` checks, all exact.
    template <typename PerLine>
    void checkJsonl(const char* file, const std::string& what, size_t at_least, PerLine per_line) {
        std::ifstream in(kFalcon + "/" + file);
        QVERIFY(in);
        Tally parse, plain;
        std::string line;
        while (std::getline(in, line)) per_line(nlohmann::json::parse(line), parse, plain);
        parse.report((what + ", special tokens parsed").c_str());
        plain.report((what + ", special tokens as text").c_str());
        QVERIFY(parse.total >= at_least);
        QCOMPARE(parse.exact, parse.total);
        QCOMPARE(plain.exact, plain.total);
    }

private slots:
    void initTestCase() {
        auto r = fm::Tokenizer::load_from_dir(kFalcon);
        if (!r) QFAIL(r.error().c_str());
        tok_ = std::move(r.value());
    }

    // >= 3,000 strings over every Unicode 16 block, code, whitespace, digits, emoji and
    // special-token strings; "ids" with special-token parsing, "plain_ids" (when different)
    // without.
    void corpusMatchesHuggingFace() {
        checkJsonl("hf_corpus.jsonl", "corpus", 3000, [&](const nlohmann::json& j, Tally& parse, Tally& plain) {
            auto text = j["text"].get<std::string>();
            auto ids = j["ids"].get<std::vector<int32_t>>();
            parse.check(*tok_, text, true, ids);
            plain.check(*tok_, text, false, j.contains("plain_ids") ? j["plain_ids"].get<std::vector<int32_t>>() : ids);
        });
    }

    // Each code point alone, after one and two spaces, and before a letter.
    void classChangesSinceUnicode8() {
        checkJsonl("hf_probe.jsonl", "probe", 100000, [&](const nlohmann::json& j, Tally& parse, Tally& plain) {
            std::string c;
            fm::unicode::append_utf8(c, j[0].get<char32_t>());
            const std::string texts[] = {c, " " + c, "  " + c, c + "a"};
            for (size_t k = 0; k < 4; ++k) {
                auto ids = j[k + 1].get<std::vector<int32_t>>();
                parse.check(*tok_, texts[k], true, ids);
                plain.check(*tok_, texts[k], false, ids);
            }
        });
    }

    // Every code point before and after a single_word added token: HF lets the token match only
    // next to a non-word character (\\w of the Rust regex crate, Unicode 16).
    void singleWordBoundaries() {
        std::ifstream in(kFalcon + "/hf_single_word.json");
        QVERIFY(in);
        auto probe = nlohmann::json::parse(in);
        std::ifstream tj(kFalcon + "/tokenizer.json");
        auto j = nlohmann::json::parse(tj);
        j["added_tokens"].push_back(probe["added_token"]);
        auto r = fm::BpeTokenizer::from_json_text(j.dump(), "single_word");
        if (!r) QFAIL(r.error().c_str());
        const auto& t = **r;
        const auto id = probe["added_token"]["id"].get<int32_t>();
        const auto token = probe["added_token"]["content"].get<std::string>();
        std::vector<bool> word(0x110000, false);
        for (const auto& range : probe["word_char_ranges"])
            for (auto c = range[0].get<uint32_t>(); c <= range[1].get<uint32_t>(); ++c) word[c] = true;
        size_t total = 0, exact = 0;
        for (char32_t c = 0; c < 0x110000; ++c) {
            if (c >= 0xD800 && c <= 0xDFFF) continue;
            std::string ch;
            fm::unicode::append_utf8(ch, c);
            for (const std::string& text : {ch + token, token + ch}) {
                auto ids = t.encode(text, true);
                bool matched = ids && std::find(ids->begin(), ids->end(), id) != ids->end();
                ++total;
                if (matched != word[c])
                    ++exact;
                else if (total - exact <= 10)
                    qWarning("  U+%04X: HF %s a word character, ours %s", unsigned(c), word[c] ? "is" : "is not",
                             matched ? "is not" : "is");
            }
        }
        qInfo("single_word: %zu of %zu exact", exact, total);
        QCOMPARE(exact, total);
    }

    // Classes of Split regexes (\\w, \\d, \\s, \\p{..}, negations, '.') on every code point, as
    // Oniguruma in HF matches them.
    void regexClasses() {
        std::ifstream in(std::string(FM_TEST_DATA_DIR) + "/tokenizers/hf_regex_classes.json");
        QVERIFY(in);
        auto classes = nlohmann::json::parse(in);
        QVERIFY(classes.size() >= 15);
        for (const auto& [pattern, ranges] : classes.items()) {
            auto re = fm::TokRegex::compile(pattern);
            if (!re) QFAIL(re.error().c_str());
            std::vector<bool> want(0x110000, false);
            for (const auto& r : ranges)
                for (auto c = r[0].get<uint32_t>(); c <= r[1].get<uint32_t>(); ++c) want[c] = true;
            size_t wrong = 0;
            for (char32_t c = 0; c < 0x110000; ++c) {
                if (c >= 0xD800 && c <= 0xDFFF) continue;
                std::u32string text(1, c);
                fm::TokRegex::Match m;
                bool too_complex = false;
                bool hit = re->find(text, 0, m, too_complex) && m.start == 0 && m.end == 1;
                if (hit != want[c] && ++wrong <= 5)
                    qWarning("  %s on U+%04X: HF %d, ours %d", pattern.c_str(), unsigned(c), int(want[c]), int(hit));
            }
            QVERIFY2(wrong == 0, pattern.c_str());
        }
    }

    // The Punctuation and Digits pre-tokenizers on every code point ("a" + c + "a", "a" + c).
    void stepClasses() {
        std::ifstream in(std::string(FM_TEST_DATA_DIR) + "/tokenizers/hf_step_classes.json");
        QVERIFY(in);
        auto steps = nlohmann::json::parse(in);
        for (const char* step : {"Punctuation", "Digits"}) {
            nlohmann::json pre = {{"type", "Sequence"},
                                  {"pretokenizers",
                                   {{{"type", step}, {"behavior", "Isolated"}, {"individual_digits", true}},
                                    {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
            auto p = fm::PreTokenizer::from_json(nullptr, pre, step);
            if (!p) QFAIL(p.error().c_str());
            std::vector<bool> want(0x110000, false);
            for (const auto& r : steps[step])
                for (auto c = r[0].get<uint32_t>(); c <= r[1].get<uint32_t>(); ++c) want[c] = true;
            const bool punct = std::string(step) == "Punctuation";
            size_t wrong = 0;
            std::string buf;
            std::vector<fm::PieceRange> pieces;
            for (char32_t c = 0; c < 0x110000; ++c) {
                if (c >= 0xD800 && c <= 0xDFFF) continue;
                std::string text = "a";
                fm::unicode::append_utf8(text, c);
                if (punct) text += 'a';
                QVERIFY(p->run(text, buf, pieces));
                bool hit = pieces.size() == (punct ? 3u : 2u);
                if (hit != want[c] && ++wrong <= 5)
                    qWarning("  %s on U+%04X: HF %d, ours %d", step, unsigned(c), int(want[c]), int(hit));
            }
            QVERIFY2(wrong == 0, step);
        }
    }

    // HF's NFC normalizer (GPT-NeoX-style tokenizers): every code point NFC changes, and random
    // starters with combining marks, Hangul jamo and the compositions Unicode 16 added (which HF
    // does not make).
    void nfcMatchesHuggingFace() {
        std::ifstream in(std::string(FM_TEST_DATA_DIR) + "/tokenizers/hf_nfc.jsonl");
        QVERIFY(in);
        size_t total = 0, exact = 0;
        std::string line;
        while (std::getline(in, line)) {
            auto j = nlohmann::json::parse(line);
            auto text = j[0].get<std::string>(), want = j[1].get<std::string>();
            auto got = fm::nfc_normalize(text);
            ++total;
            if (got == want)
                ++exact;
            else if (total - exact <= 10)
                qWarning("  NFC %s: HF %s, ours %s", escaped(text).c_str(), escaped(want).c_str(),
                         escaped(got).c_str());
        }
        qInfo("NFC: %zu of %zu exact", exact, total);
        QVERIFY(total >= 4000);
        QCOMPARE(exact, total);
    }

    // The two tables at the versions HF uses (spot checks; the probe covers them all).
    void unicodeVersions() {
        using namespace fm::unicode;
        QVERIFY(!is_hf_punctuation(0x061D));  // Po since Unicode 14
        QVERIFY(!is_hf_punctuation(0x2E43));  // Po since Unicode 9
        QVERIFY(!is_hf_punctuation(0x11FFF));
        QVERIFY(is_hf_punctuation(0x166D));   // Po in Unicode 8, So since 12
        QVERIFY(is_hf_punctuation(0x111C9));  // Po in Unicode 8, Mn since 12
        QVERIFY(in_punct(category(0x061D)));  // the regex's \p{P} is Unicode 16
        QVERIFY(is_letter(0x1C89));           // added in Unicode 16
        QVERIFY(is_number(0x116D0));          // added in Unicode 16
        QVERIFY(!is_letter(0x1885));          // Lo in Unicode 8, Mn since 9
    }
};

QTEST_GUILESS_MAIN(TestTokenizerCorpus)
#include "test_tokenizer_corpus.moc"
