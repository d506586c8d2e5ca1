// Tokenizer: Falcon byte-level BPE against Hugging Face reference ids, special-token parsing,
// UTF-8 handling, streaming decode, load errors, a GPT-NeoX-style fixture, the pre-tokenizer
// and regex building blocks, and SentencePiece.

#include <QtTest>

#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#if __has_include(<sentencepiece_trainer.h>)
#include <sentencepiece_trainer.h>
#define FM_HAVE_SP_TRAINER 1
#endif

#include "inference/text/bpe_tokenizer.h"
#include "inference/text/pretokenizer.h"
#include "inference/text/tokenizer.h"
#include "inference/text/tokenizer_regex.h"
#include "inference/text/unicode_tables.h"
#include "tests/tools/text_cases.h"

using fm::testing::addTextCases;
using fm::testing::textCase;

namespace {

const std::string kData = FM_TEST_DATA_DIR;
const std::string kFalcon = kData + "/tokenizers/falcon-tokenizer";
const std::string kInstruct = kData + "/tokenizers/falcon-instruct-like";
const std::string kNeox = kData + "/tokenizer/neox-mini";

QList<int> qlist(const std::vector<int32_t>& v) {
    return {v.begin(), v.end()};
}
std::string str(const QByteArray& b) {
    return b.toStdString();
}

void write_file(const QString& path, const std::string& content) {
    std::ofstream out(path.toStdString(), std::ios::binary);
    out << content;
}

}  // namespace

class TestTokenizer : public QObject {
    Q_OBJECT

    std::map<std::string, std::unique_ptr<fm::Tokenizer>> loaded_;

    const fm::Tokenizer& tok(const std::string& dir) {
        auto& t = loaded_[dir];
        if (!t) {
            auto r = fm::Tokenizer::load_from_dir(dir);
            if (!r) qFatal("loading %s: %s", dir.c_str(), r.error().c_str());
            t = std::move(r.value());
        }
        return *t;
    }

private slots:
    void falconBasics() {
        const auto& t = tok(kFalcon);
        QCOMPARE(t.kind(), std::string("bpe"));
        QCOMPARE(t.vocab_size(), 65024);
        QCOMPARE(t.added_tokens().size(), size_t(12));
        QCOMPARE(t.token_to_id("<|endoftext|>"), std::optional<int32_t>(11));
        QCOMPARE(t.token_to_id(">>TITLE<<"), std::optional<int32_t>(0));
        QVERIFY(t.is_special(11));
        QVERIFY(!t.is_special(204));
        auto the = t.token_to_id("Ġthe");
        QVERIFY(the.has_value());
        QCOMPARE(t.token_bytes(*the), std::string(" the"));
        QCOMPARE(t.token_bytes(11), std::string("<|endoftext|>"));
        QCOMPARE(t.token_bytes(-1), std::string());
        QCOMPARE(t.token_bytes(1 << 30), std::string());
        QVERIFY(!t.token_to_id("definitely not a token").has_value());
    }

    // 1. The 51 reference cases: exact ids with parse_special, exact round trip.
    void encodeCases_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QList<int>>("ids");
        std::ifstream in(kFalcon + "/encode_cases.jsonl");
        QVERIFY(in.good());
        std::string line;
        int n = 0;
        while (std::getline(in, line)) {
            if (line.empty()) continue;
            auto j = nlohmann::json::parse(line);
            auto text = j.at("text").get<std::string>();
            auto ids = j.at("ids").get<std::vector<int32_t>>();
            size_t cut = std::min<size_t>(text.size(), 24);
            while (cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
            std::string name = std::to_string(n++) + ": " + nlohmann::json(text.substr(0, cut)).dump();
            QTest::newRow(name.c_str()) << QByteArray::fromStdString(text) << qlist(ids);
        }
        QCOMPARE(n, 51);
    }
    void encodeCases() {
        QFETCH(QByteArray, text);
        QFETCH(QList<int>, ids);
        const auto& t = tok(kFalcon);
        auto got = t.encode(str(text), true);
        QVERIFY2(got.ok(), got.error().c_str());
        QCOMPARE(qlist(*got), ids);
        QCOMPARE(QByteArray::fromStdString(t.decode(*got, false)), text);
        // The cache must not change results: a second encode gives the same ids.
        auto again = t.encode(str(text), true);
        QCOMPARE(qlist(*again), ids);
    }

    // 2. parse_special off: typed special strings stay ordinary text.
    void parseSpecial_data() {
        QTest::addColumn<QString>("dir");
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<int>("special_id");
        QTest::newRow("falcon endoftext") << QString::fromStdString(kFalcon) << QByteArray("<|endoftext|>") << 11;
        QTest::newRow("falcon title") << QString::fromStdString(kFalcon) << QByteArray(">>TITLE<<") << 0;
        QTest::newRow("instruct im_end") << QString::fromStdString(kInstruct) << QByteArray("<|im_end|>") << 10;
        QTest::newRow("instruct im_start") << QString::fromStdString(kInstruct) << QByteArray("<|im_start|>") << 9;
        QTest::newRow("instruct assistant") << QString::fromStdString(kInstruct) << QByteArray("assistant") << 7;
    }
    void parseSpecial() {
        QFETCH(QString, dir);
        QFETCH(QByteArray, text);
        QFETCH(int, special_id);
        const auto& t = tok(dir.toStdString());
        auto on = t.encode(str(text), true);
        QVERIFY(on.ok());
        QCOMPARE(qlist(*on), QList<int>{special_id});
        auto off = t.encode(str(text), false);
        QVERIFY(off.ok());
        QVERIFY(!off->empty());
        QVERIFY(std::find(off->begin(), off->end(), special_id) == off->end());
        for (int32_t id : *off) QVERIFY(!t.is_special(id));
        QCOMPARE(QByteArray::fromStdString(t.decode(*off, true)), text);  // nothing special to skip
        // Embedded in a turn: off gives the same ids as for the text around it, plus ordinary ids.
        std::string turn = "Hi" + str(text) + "\n";
        auto turn_on = t.encode(turn, true);
        auto turn_off = t.encode(turn, false);
        QVERIFY(std::find(turn_on->begin(), turn_on->end(), special_id) != turn_on->end());
        QVERIFY(std::find(turn_off->begin(), turn_off->end(), special_id) == turn_off->end());
        QCOMPARE(t.decode(*turn_off, false), turn);
    }

    void instructTemplate() {
        const auto& t = tok(kInstruct);
        auto ids = t.encode("<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n", true);
        QVERIFY(ids.ok());
        QCOMPARE(ids->front(), 9);
        QCOMPARE(std::count(ids->begin(), ids->end(), 10), 1L);
        QCOMPARE(std::count(ids->begin(), ids->end(), 7), 1L);
        QCOMPARE(t.decode(*ids, true), std::string("user\nHello\n\n"));
    }

    // Invalid UTF-8 input fails with the byte offset.
    void invalidUtf8_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<int>("offset");
        QTest::newRow("lone 0xFF") << QByteArray("abc\xff", 4) << 3;
        QTest::newRow("truncated at end") << QByteArray("\xc3", 1) << 0;
        QTest::newRow("truncated 3-byte") << QByteArray("ok \xe2\x82", 5) << 3;
        QTest::newRow("overlong") << QByteArray("\xc0\xaf", 2) << 0;
        QTest::newRow("surrogate") << QByteArray("a\xed\xa0\x80", 4) << 1;
        QTest::newRow("above U+10FFFF") << QByteArray("xy\xf4\x90\x80\x80", 6) << 2;
        QTest::newRow("stray continuation") << QByteArray("h\xc3\xa9llo\x80", 7) << 6;
    }
    void invalidUtf8() {
        QFETCH(QByteArray, bytes);
        QFETCH(int, offset);
        for (const std::string& dir : {kFalcon, kNeox}) {
            for (bool parse : {true, false}) {
                auto r = tok(dir).encode(str(bytes), parse);
                QVERIFY(!r.ok());
                QVERIFY2(r.error().find("invalid UTF-8 at byte offset " + std::to_string(offset)) != std::string::npos,
                         r.error().c_str());
            }
        }
    }

    // Decoding bytes that are not valid UTF-8 follows errors="replace" (one U+FFFD per maximal subpart).
    void decodeLossy() {
        const auto& t = tok(kFalcon);
        // Falcon ids of single bytes: find them through token_bytes.
        std::map<unsigned char, int32_t> byte_id;
        for (int32_t id = 0; id < t.vocab_size() && byte_id.size() < 256; ++id) {
            std::string b = t.token_bytes(id);
            if (b.size() == 1 && !t.is_special(id)) byte_id.emplace(static_cast<unsigned char>(b[0]), id);
        }
        // Falcon's vocabulary lacks 28 byte characters (some control bytes and bytes that never
        // occur in UTF-8 such as 0xC0); all the ones used below exist.
        QCOMPARE(byte_id.size(), size_t(228));
        auto ids = [&](std::initializer_list<unsigned char> bytes) {
            std::vector<int32_t> v;
            for (auto b : bytes) v.push_back(byte_id[b]);
            return v;
        };
        QCOMPARE(t.decode(ids({'a', 0xE2, 0x82, 'b'}), false), std::string("a\xEF\xBF\xBD"
                                                                           "b"));
        QCOMPARE(t.decode(ids({0x80, 0x80}), false), std::string("\xEF\xBF\xBD\xEF\xBF\xBD"));
        QCOMPARE(t.decode(ids({0xF0, 0x9F, 0xA6, 0x99}), false), std::string("\xF0\x9F\xA6\x99"));
        QCOMPARE(t.decode(ids({0xED, 0xA0, 0x80}), false), std::string("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"));
        // The stream decoder agrees with decode() on the same invalid bytes.
        fm::StreamDecoder sd(t, false);
        std::string streamed;
        for (int32_t id : ids({'a', 0xE2, 0x82, 'b', 0x80, 0xF0, 0x9F})) streamed += sd.push(id);
        streamed += sd.flush();
        QCOMPARE(streamed, t.decode(ids({'a', 0xE2, 0x82, 'b', 0x80, 0xF0, 0x9F}), false));
    }

    // A character whose byte has no token (and no unk_token exists) is dropped, as in Hugging Face.
    void missingByteDropped() {
        const auto& t = tok(kFalcon);
        auto with = t.encode(
            "a\x0b"
            "b",
            false);
        QVERIFY(with.ok());
        std::vector<int32_t> parts = t.encode("a", false).value();
        std::vector<int32_t> b_ids = t.encode("b", false).value();
        parts.insert(parts.end(), b_ids.begin(), b_ids.end());
        QCOMPARE(*with, parts);  // "\v" was its own (whitespace) piece, then vanished
        QCOMPARE(t.decode(*with, false), std::string("ab"));
    }

    // Stream decoding: a character split across tokens is held back until complete.
    void streamDecoder_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<bool>("expect_split_char");
        QTest::newRow("llama emoji") << QByteArray(" this is 🦙.cpp 🦙🦙") << true;
        QTest::newRow("khmer") << QByteArray("កាន់តែពិសេសអាចខលចេញ") << true;
        QTest::newRow("zwj emoji") << QByteArray("😶‍🌫️ (multiple emojis concatenated) ✅") << true;
        QTest::newRow("cjk") << QByteArray("我想在apple工作1314151天～") << true;
        QTest::newRow("vietnamese") << QByteArray("Cửa Việt") << true;
        QTest::newRow("ascii") << QByteArray("Hello, world! 12345678") << false;
    }
    void streamDecoder() {
        QFETCH(QByteArray, text);
        QFETCH(bool, expect_split_char);
        const auto& t = tok(kFalcon);
        auto ids = t.encode(str(text), false);
        QVERIFY(ids.ok());
        fm::StreamDecoder sd(t, false);
        std::string all;
        bool held_back = false;
        for (int32_t id : *ids) {
            std::string piece = sd.push(id);
            // Only complete characters: valid UTF-8 and never a replacement character.
            QVERIFY(fm::unicode::find_invalid_utf8(piece) == std::string::npos);
            QVERIFY(piece.find("\xEF\xBF\xBD") == std::string::npos);
            if (fm::unicode::find_invalid_utf8(t.token_bytes(id)) != std::string::npos) held_back = true;
            all += piece;
        }
        QCOMPARE(sd.flush(), std::string());
        QCOMPARE(held_back, expect_split_char);
        QCOMPARE(all, t.decode(*ids, false));
        QCOMPARE(QByteArray::fromStdString(all), text);
    }

    void streamFlushIncomplete() {
        const auto& t = tok(kFalcon);
        auto ids = t.encode("🦙", false);  // several tokens, none a whole character
        QVERIFY(ids->size() >= 2);
        fm::StreamDecoder sd(t, false);
        QCOMPARE(sd.push((*ids)[0]), std::string());
        QCOMPARE(sd.flush(), std::string("\xEF\xBF\xBD"));  // incomplete -> U+FFFD
        QCOMPARE(sd.flush(), std::string());
    }

    void skipSpecial() {
        const auto& t = tok(kFalcon);
        std::string text = ">>TITLE<<Intro<|endoftext|> and more";
        auto ids = t.encode(text, true);
        QVERIFY(ids.ok());
        QCOMPARE(ids->front(), 0);
        QCOMPARE(t.decode(*ids, false), text);
        QCOMPARE(t.decode(*ids, true), std::string("Intro and more"));
        fm::StreamDecoder skip(t, true), keep(t, false);
        std::string a, b;
        for (int32_t id : *ids) {
            a += skip.push(id);
            b += keep.push(id);
        }
        QCOMPARE(a + skip.flush(), std::string("Intro and more"));
        QCOMPARE(b + keep.flush(), text);
    }

    // Missing or broken tokenizer files give clear errors naming the file or folder.
    void loadErrors_data() {
        QTest::addColumn<QByteArray>("content");  // tokenizer.json content; empty = no file
        QTest::addColumn<QString>("expected");
        QTest::newRow("no files") << QByteArray() << "no tokenizer.json or tokenizer.model";
        QTest::newRow("truncated json") << QByteArray("{\"model\": {\"type\": \"BPE\", \"vocab\": {")
                                        << "invalid JSON at byte";
        QTest::newRow("not an object") << QByteArray("[1, 2]") << "expected a JSON object";
        QTest::newRow("no model") << QByteArray("{}") << "missing \"model\"";
        QTest::newRow("wordpiece") << QByteArray(R"({"model": {"type": "WordPiece", "vocab": {}}})")
                                   << "model type \"WordPiece\" is not supported";
        QTest::newRow("unigram") << QByteArray(R"({"model": {"type": "Unigram", "vocab": []}})")
                                 << "model type \"Unigram\" is not supported";
        const char* base = R"({"pre_tokenizer": %1, "normalizer": %2, "decoder": %3,
            "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [%4]}})";
        auto make = [&](const char* pre, const char* norm, const char* dec, const char* merges) {
            return QString(base).arg(pre, norm, dec, merges).toUtf8();
        };
        const char* bl = R"({"type": "ByteLevel"})";
        QTest::newRow("metaspace") << make(R"({"type": "Metaspace"})", "null", "null", "")
                                   << "pre_tokenizer Metaspace is not supported";
        QTest::newRow("no byte level") << make(R"({"type": "Digits"})", "null", "null", "")
                                       << "exactly one ByteLevel step";
        QTest::newRow("no pre_tokenizer") << make("null", "null", "null", "") << "no pre_tokenizer";
        QTest::newRow("nfkc") << make(bl, R"({"type": "NFKC"})", "null", "") << "normalizer NFKC is not supported";
        QTest::newRow("lookbehind split")
            << make(R"({"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "(?<=a)b"},
                      "behavior": "Isolated"}, {"type": "ByteLevel"}]})",
                    "null", "null", "")
            << "lookbehind is not supported";
        QTest::newRow("bad behavior")
            << make(R"({"type": "Sequence", "pretokenizers": [{"type": "ByteLevel"}, {"type": "Split",
                      "pattern": {"String": "x"}, "behavior": "Sideways"}]})",
                    "null", "null", "")
            << "unsupported split behavior";
        QTest::newRow("wordpiece decoder")
            << make(bl, "null", R"({"type": "WordPiece"})", "") << "decoder WordPiece is not supported";
        QTest::newRow("merge out of vocab") << make(bl, "null", "null", R"("a c")") << "merge 0 (\"a\", \"c\")";
        QTest::newRow("bad merge") << make(bl, "null", "null", R"("a b c")") << "is not two tokens";
        QTest::newRow("bad vocab id") << QByteArray(R"({"pre_tokenizer": {"type": "ByteLevel"},
            "model": {"type": "BPE", "vocab": {"a": "zero"}, "merges": []}})")
                                      << "vocab entry \"a\" has an invalid id";
        QTest::newRow("float vocab id") << make(bl, "null", "null", "").replace("\"ab\": 2", "\"ab\": 2.5")
                                        << "vocab entry \"ab\" has an invalid id 2.5";
        QTest::newRow("object vocab id") << make(bl, "null", "null", "").replace("\"ab\": 2", "\"ab\": {\"x\": 2}")
                                         << "vocab entry \"ab\" has an invalid id";
        QTest::newRow("pair of three") << make(bl, "null", "null", R"(["a", "b", "c"])") << "merge 0 is neither";
        QTest::newRow("pair of one") << make(bl, "null", "null", R"(["a"])") << "merge 0 is neither";
        QTest::newRow("number merge") << make(bl, "null", "null", R"("a b", 7)") << "merge 1 is neither";
        QTest::newRow("nested merge") << make(bl, "null", "null", R"([["a"], "b"])") << "merge 0 is neither";
        QTest::newRow("two vocabs") << make(bl, "null", "null", "").replace("\"merges\"", "\"vocab\": {}, \"merges\"")
                                    << "model has two \"vocab\" objects";
        QTest::newRow("two merges") << make(bl, "null", "null", "").replace("\"vocab\"", "\"merges\": [], \"vocab\"")
                                    << "model has two \"merges\" arrays";
        QTest::newRow("two models") << make(bl, "null", "null", "").replace("\"decoder\"", "\"model\": {}, \"decoder\"")
                                    << "two \"model\" objects";
        // Nesting beyond the limit is refused while parsing, inside or outside vocab and merges.
        QByteArray deep = QByteArray(300, '[') + QByteArray(300, ']');
        QTest::newRow("deep elsewhere")
            << make(bl, "null", "null", "").replace("\"decoder\": null", "\"decoder\": " + deep) << "nested more than";
        QTest::newRow("deep in merges") << make(bl, "null", "null", deep.constData()) << "merge 0 is neither";
        QTest::newRow("deep in vocab") << make(bl, "null", "null", "").replace("\"ab\": 2", "\"ab\": " + deep)
                                       << "vocab entry \"ab\" has an invalid id";
    }
    void loadErrors() {
        QFETCH(QByteArray, content);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        if (!content.isEmpty()) write_file(dir.filePath("tokenizer.json"), str(content));
        auto r = fm::Tokenizer::load_from_dir(dir.path().toStdString());
        QVERIFY(!r.ok());
        QVERIFY2(r.error().find(expected.toStdString()) != std::string::npos, r.error().c_str());
        QVERIFY2(r.error().find(dir.path().toStdString()) != std::string::npos, r.error().c_str());
    }

    void loadMissing() {
        auto r = fm::Tokenizer::load_from_dir("/nonexistent/model-folder");
        QVERIFY(!r.ok());
        QVERIFY(r.error().find("/nonexistent/model-folder") != std::string::npos);
        auto f = fm::Tokenizer::load_file("/nonexistent/tokenizer.json");
        QVERIFY(!f.ok());
        QVERIFY(f.error().find("not found") != std::string::npos);
        QTemporaryDir dir;
        write_file(dir.filePath("vocab.txt"), "x");
        auto g = fm::Tokenizer::load_file(dir.filePath("vocab.txt").toStdString());
        QVERIFY(!g.ok());
        QVERIFY(g.error().find("unknown tokenizer format") != std::string::npos);
        write_file(dir.filePath("tokenizer.model"), "garbage, not a protobuf");
        auto h = fm::Tokenizer::load_from_dir(dir.path().toStdString());
        QVERIFY(!h.ok());
        QVERIFY2(h.error().find("tokenizer.model") != std::string::npos, h.error().c_str());
    }

    // GPT-NeoX-style fixture (tests/data/tokenizer/neox-mini, see its README): ids by hand.
    void neoxByteLevel_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<bool>("parse_special");
        QTest::addColumn<QList<int>>("ids");
        QTest::newRow("merges") << QByteArray("the then in") << true << QList<int>{260, 261, 32, 259};
        QTest::newRow("no digit split") << QByteArray("2024") << true << QList<int>{50, 48, 50, 52};
        QTest::newRow("NFC composes") << QByteArray("cafe\xcc\x81") << true << QList<int>{99, 97, 102, 195, 169};
        QTest::newRow("precomposed") << QByteArray("caf\xc3\xa9") << true << QList<int>{99, 97, 102, 195, 169};
        QTest::newRow("spaces then word") << QByteArray("  the") << true << QList<int>{32, 258};
        QTest::newRow("newlines") << QByteArray("\n\nin") << true << QList<int>{10, 10, 259};
        QTest::newRow("contraction") << QByteArray("he's") << true << QList<int>{257, 39, 115};
        QTest::newRow("special on") << QByteArray("<|endoftext|>") << true << QList<int>{270};
        QTest::newRow("special off") << QByteArray("<|endoftext|>") << false
                                     << QList<int>{60, 124, 101, 110, 100, 111, 102, 116, 101, 120, 116, 124, 62};
        // The non-special four-space token is split out whatever parse_special says (as in HF).
        QTest::newRow("plain added, off") << QByteArray("a    b") << false << QList<int>{97, 271, 98};
        QTest::newRow("plain added, on") << QByteArray("a    b") << true << QList<int>{97, 271, 98};
    }
    void neoxByteLevel() {
        QFETCH(QByteArray, text);
        QFETCH(bool, parse_special);
        QFETCH(QList<int>, ids);
        const auto& t = tok(kNeox);
        auto got = t.encode(str(text), parse_special);
        QVERIFY2(got.ok(), got.error().c_str());
        QCOMPARE(qlist(*got), ids);
        std::string back = t.decode(*got, false);
        if (text != QByteArray("cafe\xcc\x81")) QCOMPARE(QByteArray::fromStdString(back), text);
    }

    // Added-token flags (lstrip, rstrip, single_word) as Hugging Face applies them.
    void addedTokenFlags_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QList<int>>("ids");
        QTest::newRow("lstrip eats spaces before") << QByteArray("a  <mask> b") << QList<int>{97, 272, 32, 98};
        QTest::newRow("rstrip eats spaces after") << QByteArray("a[R]  \n b") << QList<int>{97, 273, 98};
        QTest::newRow("single word alone") << QByteArray("sw sw") << QList<int>{274, 32, 274};
        QTest::newRow("single word inside a word") << QByteArray("swim") << QList<int>{115, 119, 105, 109};
        QTest::newRow("longest match wins") << QByteArray("[R][RR]") << QList<int>{273, 275};
    }
    void addedTokenFlags() {
        QFETCH(QByteArray, text);
        QFETCH(QList<int>, ids);
        std::ifstream in(kNeox + "/tokenizer.json");
        auto j = nlohmann::json::parse(in);
        auto add = [&](int id, const char* content, bool lstrip, bool rstrip, bool single_word) {
            j["added_tokens"].push_back({{"id", id},
                                         {"content", content},
                                         {"special", true},
                                         {"lstrip", lstrip},
                                         {"rstrip", rstrip},
                                         {"single_word", single_word},
                                         {"normalized", false}});
        };
        add(272, "<mask>", true, false, false);
        add(273, "[R]", false, true, false);
        add(274, "sw", false, false, true);
        add(275, "[RR]", false, false, false);
        auto t = fm::BpeTokenizer::from_json_text(j.dump(), "flags");
        QVERIFY2(t.ok(), t.error().c_str());
        auto got = (*t)->encode(str(text), true);
        QVERIFY(got.ok());
        QCOMPARE(qlist(*got), ids);
    }

    // The piece cache stays bounded.
    void cacheBounded() {
        auto t = fm::Tokenizer::load_from_dir(kFalcon);
        QVERIFY(t.ok());
        auto* bpe = dynamic_cast<fm::BpeTokenizer*>(t->get());
        QVERIFY(bpe);
        std::string text;
        std::mt19937 rng(1);
        for (int i = 0; i < 80000; ++i) {
            text += ' ';
            for (int k = 0; k < 7; ++k) text += static_cast<char>('a' + rng() % 26);
        }
        auto ids = bpe->encode(text, false);
        QVERIFY(ids.ok());
        QVERIFY(bpe->cache_size() > 0);
        QVERIFY(bpe->cache_size() <= fm::BpeTokenizer::kCacheCapacity);
        QCOMPARE(bpe->decode(*ids, false), text);
    }

    // Merges given as [a, b] pairs load and encode like "a b" strings.
    void mergesAsPairs() {
        std::ifstream in(kNeox + "/tokenizer.json");
        auto j = nlohmann::json::parse(in);
        for (auto& m : j["model"]["merges"]) {
            auto s = m.get<std::string>();
            auto sp = s.find(' ');
            m = nlohmann::json::array({s.substr(0, sp), s.substr(sp + 1)});
        }
        auto t = fm::BpeTokenizer::from_json_text(j.dump(), "pairs");
        QVERIFY2(t.ok(), t.error().c_str());
        auto ids = (*t)->encode("the then in", true);
        QCOMPARE(qlist(*ids), (QList<int>{260, 261, 32, 259}));
    }

    // Split behaviours, after Hugging Face's SplitDelimiterBehavior, on "a-b--c".
    void splitBehavior_data() {
        QTest::addColumn<QString>("behavior");
        QTest::addColumn<bool>("invert");
        QTest::addColumn<QStringList>("pieces");
        QTest::newRow("Removed") << "Removed" << false << QStringList{"a", "b", "c"};
        QTest::newRow("Isolated") << "Isolated" << false << QStringList{"a", "-", "b", "-", "-", "c"};
        QTest::newRow("MergedWithPrevious") << "MergedWithPrevious" << false << QStringList{"a-", "b-", "-", "c"};
        QTest::newRow("MergedWithNext") << "MergedWithNext" << false << QStringList{"a", "-b", "-", "-c"};
        QTest::newRow("Contiguous") << "Contiguous" << false << QStringList{"a", "-", "b", "--", "c"};
        QTest::newRow("Removed inverted") << "Removed" << true << QStringList{"-", "-", "-"};
    }
    void splitBehavior() {
        QFETCH(QString, behavior);
        QFETCH(bool, invert);
        QFETCH(QStringList, pieces);
        nlohmann::json pre = {{"type", "Sequence"},
                              {"pretokenizers",
                               {{{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}},
                                {{"type", "Split"},
                                 {"pattern", {{"String", "-"}}},
                                 {"behavior", behavior.toStdString()},
                                 {"invert", invert}}}}};
        auto p = fm::PreTokenizer::from_json(nullptr, pre, "test");
        QVERIFY2(p.ok(), p.error().c_str());
        std::string buf;
        std::vector<fm::PieceRange> ranges;
        QVERIFY(p->run("a-b--c", buf, ranges).ok());
        QStringList got;
        for (auto r : ranges) got << QString::fromStdString(buf.substr(r.begin, r.end - r.begin));
        QCOMPARE(got, pieces);
    }

    void regex_data() {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<QString>("text");
        QTest::addColumn<QStringList>("matches");
        QTest::newRow("digits3") << "[0-9][0-9][0-9]"
                                 << "12345678" << QStringList{"123", "456"};
        QTest::newRow("counted") << "\\d{1,3}"
                                 << "12345 7" << QStringList{"123", "45", "7"};
        QTest::newRow("lazy") << "a+?"
                              << "aaa" << QStringList{"a", "a", "a"};
        QTest::newRow("alternation order") << "ab|abc"
                                           << "abcab" << QStringList{"ab", "ab"};
        QTest::newRow("lookahead") << "\\s+(?!\\S)"
                                   << "a   b  " << QStringList{"  ", "  "};
        QTest::newRow("positive lookahead") << "\\w+(?=!)"
                                            << "hey you!" << QStringList{"you"};
        QTest::newRow("letters") << "\\p{L}+"
                                 << "Grüße, мир 42" << QStringList{"Grüße", "мир"};
        QTest::newRow("negated class") << "[^\\s\\p{L}]+"
                                       << "ab,.; cd ½!" << QStringList{",.;", "½!"};
        QTest::newRow("group repeat") << "(?:ab)+"
                                      << "ababxab" << QStringList{"abab", "ab"};
        QTest::newRow("anchors") << "^x|y$"
                                 << "xaxy" << QStringList{"x", "y"};
        QTest::newRow("escapes") << "\\x{1F999}|\\u00e9|\\."
                                 << "é.🦙" << QStringList{"é", ".", "🦙"};
        QTest::newRow("dot") << "a.c"
                             << "abc a\nc" << QStringList{"abc"};
        QTest::newRow("literal brace") << "a{x"
                                       << "a{x" << QStringList{"a{x"};
    }
    void regex() {
        QFETCH(QString, pattern);
        QFETCH(QString, text);
        QFETCH(QStringList, matches);
        auto re = fm::TokRegex::compile(pattern.toStdString());
        QVERIFY2(re.ok(), re.error().c_str());
        std::u32string t = text.toStdU32String();
        QStringList got;
        fm::TokRegex::Match m;
        bool too = false;
        size_t from = 0;
        while (from <= t.size() && re->find(t, from, m, too)) {
            if (m.end == m.start) {
                from = m.start + 1;
                continue;
            }
            got << QString::fromStdU32String(t.substr(m.start, m.end - m.start));
            from = m.end;
        }
        QVERIFY(!too);
        QCOMPARE(got, matches);
    }

    void regexRefused_data() {
        addTextCases({
            {"flags", "(?i:abc)", "group syntax (?i"},
            {"backreference", "(a)\\1", "escape \\1"},
            {"possessive", "a++", "possessive"},
            {"script", "\\p{Han}", "\\p{Han}"},
            {"word boundary", "\\bx", "escape \\b"},
            {"empty loop", "(a*)*", "can match empty"},
            {"unbalanced", "(ab", "missing ')'"},
        });
    }

    void regexRefused() {
        const auto [pattern, message] = textCase();
        auto re = fm::TokRegex::compile(pattern.toStdString());
        QVERIFY(!re.ok());
        QVERIFY2(re.error().find(message.toStdString()) != std::string::npos, re.error().c_str());
        QVERIFY2(re.error().find("offset") != std::string::npos, re.error().c_str());
    }

    // The hand-written GPT-2 splitter agrees with the regex engine running the GPT-2 pattern.
    void gpt2SplitMatchesRegex() {
        auto re = fm::TokRegex::compile(fm::kGpt2Pattern);
        QVERIFY2(re.ok(), re.error().c_str());
        const std::vector<std::string> alphabet = {"a",   "Z",   "é",  "я",  "日",   "1",      "٣", "½",
                                                   " ",   " ",   "  ", "\t", "\n",   "\u3000", "'", "'s",
                                                   "'ll", "'RE", ",",  "!?", "🦙", "\u0301"};
        std::mt19937 rng(42);
        for (int iter = 0; iter < 3000; ++iter) {
            std::string s;
            for (int k = 0, n = static_cast<int>(rng() % 12); k < n; ++k) s += alphabet[rng() % alphabet.size()];
            std::vector<fm::PieceRange> fast;
            fm::gpt2_split(s, 0, static_cast<uint32_t>(s.size()), fast);
            // Regex over code points, mapped back to byte offsets.
            std::u32string w;
            std::vector<uint32_t> off;
            for (size_t i = 0; i < s.size();) {
                char32_t cp = 0;
                size_t n = fm::unicode::decode_utf8(s, i, cp);
                w += cp;
                off.push_back(static_cast<uint32_t>(i));
                i += n;
            }
            off.push_back(static_cast<uint32_t>(s.size()));
            std::vector<fm::PieceRange> slow;
            fm::TokRegex::Match m;
            bool too = false;
            for (size_t from = 0; from < w.size() && re->find(w, from, m, too); from = m.end)
                slow.push_back({off[m.start], off[m.end]});
            QVERIFY(!too);
            QVERIFY2(fast.size() == slow.size(), s.c_str());
            for (size_t k = 0; k < fast.size(); ++k)
                QVERIFY2(fast[k].begin == slow[k].begin && fast[k].end == slow[k].end, s.c_str());
        }
    }

    void unicodeTables() {
        using namespace fm::unicode;
        QCOMPARE(category(U'A'), Category::Lu);
        QCOMPARE(category(U'½'), Category::No);
        QCOMPARE(category(U'¡'), Category::Po);
        QCOMPARE(category(U'🦙'), Category::So);
        QCOMPARE(category(0x10FFFF), Category::Cn);
        QVERIFY(is_white_space(0x3000));
        QVERIFY(!is_white_space(0x200B));
        QVERIFY(is_hf_punctuation(U'$'));  // ASCII punctuation though Sc
        QVERIFY(is_hf_punctuation(U'«'));
        QVERIFY(!is_hf_punctuation(U'€'));
        QCOMPARE(fm::nfc_normalize("A\xcc\x8a"), std::string("\xc3\x85"));                      // A + ring -> Å
        QCOMPARE(fm::nfc_normalize("\xe1\x84\x80\xe1\x85\xa1"), std::string("가"));             // Hangul L+V
        QCOMPARE(fm::nfc_normalize("a\xcc\x87\xcc\xa3"), std::string("\xe1\xba\xa1\xcc\x87"));  // reordering
        QCOMPARE(fm::nfc_normalize("\xe2\x84\xab"), std::string("\xc3\x85"));                   // Angstrom sign
    }

    // Concurrent encodes through the shared cache give the same ids.
    void threadedEncode() {
        const auto& t = tok(kFalcon);
        std::string text;
        for (int i = 0; i < 300; ++i) text += "Sentence number " + std::to_string(i * 7919) + " says héllo 🦙. ";
        auto want = t.encode(text, false);
        std::vector<std::vector<int32_t>> got(4);
        std::vector<std::thread> threads;
        for (int k = 0; k < 4; ++k)
            threads.emplace_back([&, k] {
                for (int rep = 0; rep < 5; ++rep) got[k] = t.encode(text, false).value();
            });
        for (auto& th : threads) th.join();
        for (const auto& g : got) QCOMPARE(g, *want);
    }

    void sentencePiece() {
#ifndef FM_HAVE_SP_TRAINER
        QSKIP("sentencepiece_trainer.h is not available; cannot train a test model");
#else
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString corpus = dir.filePath("corpus.txt");
        std::string text;
        const char* lines[] = {
            "The quick brown fox jumps over the lazy dog.", "Falcon Mamba runs locally on your own computer.",
            "Private chat with a state space language model.", "Tokenizers turn text into numbers and back again.",
            "Hello world, hello tokens, hello sentence pieces."};
        for (int rep = 0; rep < 20; ++rep)
            for (const char* l : lines) text += std::string(l) + "\n";
        write_file(corpus, text);
        const std::string prefix = dir.filePath("tokenizer").toStdString();
        auto st = sentencepiece::SentencePieceTrainer::Train(
            "--input=" + corpus.toStdString() + " --model_prefix=" + prefix +
            " --vocab_size=400 --model_type=bpe --character_coverage=1.0 --byte_fallback=true"
            " --hard_vocab_limit=false --minloglevel=2");
        if (!st.ok()) QSKIP(("SentencePiece trainer failed: " + st.ToString()).c_str());
        auto t = fm::Tokenizer::load_from_dir(dir.path().toStdString());
        QVERIFY2(t.ok(), t.error().c_str());
        const auto& tk = **t;
        QCOMPARE(tk.kind(), std::string("sentencepiece"));
        for (const std::string s :
             {"Hello world, hello tokens.", "The lazy fox runs locally.", "Ünïcödé 🦙 bytes"}) {
            auto ids = tk.encode(s, false);
            QVERIFY2(ids.ok(), ids.error().c_str());
            QVERIFY(!ids->empty());
            QCOMPARE(tk.decode(*ids, false), s);
            fm::StreamDecoder sd(tk, false);
            std::string streamed;
            for (int32_t id : *ids) {
                std::string piece = sd.push(id);
                QVERIFY(fm::unicode::find_invalid_utf8(piece) == std::string::npos);
                streamed += piece;
            }
            streamed += sd.flush();
            QCOMPARE(streamed, " " + s);  // the stream keeps SentencePiece's dummy-prefix space
        }
        auto bos = tk.token_to_id("<s>");
        QVERIFY(bos.has_value());
        QVERIFY(tk.is_special(*bos));
        auto on = tk.encode("<s>Hello", true);
        QCOMPARE(on->front(), *bos);
        auto off = tk.encode("<s>Hello", false);
        QVERIFY(std::find(off->begin(), off->end(), *bos) == off->end());
        QCOMPARE(tk.decode(*on, true), std::string("Hello"));
        auto bad = tk.encode("abc\xff", false);
        QVERIFY(!bad.ok());
        QVERIFY(bad.error().find("byte offset 3") != std::string::npos);
#endif
    }
};

QTEST_GUILESS_MAIN(TestTokenizer)
#include "test_tokenizer.moc"
