// ChatFormat: mode, template, special tokens and stop ids from a checkpoint folder. Uses a
// fake Tokenizer (only added tokens and token_to_id matter here), fed from the fixture's
// tokenizer.json when a real folder is loaded.

#include <QtTest>

#include <QTemporaryDir>

#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "inference/chat/chat_format.h"

using fm::ChatFormat;
using fm::ChatMessage;
using fm::ChatMode;
using Ids = std::vector<int32_t>;
using Files = std::map<std::string, std::string>;

Q_DECLARE_METATYPE(std::string)
Q_DECLARE_METATYPE(Ids)
Q_DECLARE_METATYPE(Files)
Q_DECLARE_METATYPE(ChatMode)
Q_DECLARE_METATYPE(std::vector<ChatMessage>)

namespace {

const std::string kData = FM_TEST_DATA_DIR;

class FakeTokenizer : public fm::Tokenizer {
public:
    explicit FakeTokenizer(std::vector<fm::AddedToken> added) : added_(std::move(added)) {}

    // The added tokens of a tokenizer.json, without building the real tokenizer.
    static FakeTokenizer from_tokenizer_json(const std::string& path) {
        std::ifstream in(path);
        auto j = nlohmann::json::parse(in);
        std::vector<fm::AddedToken> added;
        for (const auto& t : j.at("added_tokens"))
            added.push_back({t.at("id").get<int32_t>(), t.at("content").get<std::string>(), t.value("special", false)});
        return FakeTokenizer(std::move(added));
    }

    fm::Result<std::vector<int32_t>> encode(std::string_view, bool) const override { return std::vector<int32_t>{}; }
    std::string decode(std::span<const int32_t>, bool) const override { return {}; }
    std::string token_bytes(int32_t) const override { return {}; }
    int32_t vocab_size() const override { return 65024; }
    const std::vector<fm::AddedToken>& added_tokens() const override { return added_; }
    std::optional<int32_t> token_to_id(std::string_view token) const override {
        for (const auto& t : added_)
            if (t.content == token) return t.id;
        return std::nullopt;
    }
    bool is_special(int32_t id) const override {
        for (const auto& t : added_)
            if (t.id == id) return t.special;
        return false;
    }
    std::string kind() const override { return "fake"; }

private:
    std::vector<fm::AddedToken> added_;
};

// <|endoftext|> = 1, plus <|im_start|> = 5 and <|im_end|> = 6 when chatml.
FakeTokenizer synthetic_tokenizer(bool chatml) {
    std::vector<fm::AddedToken> added{{1, "<|endoftext|>", true}};
    if (chatml) {
        added.push_back({5, "<|im_start|>", true});
        added.push_back({6, "<|im_end|>", true});
    }
    return FakeTokenizer(std::move(added));
}

void write_file(const QString& dir, const std::string& name, const std::string& content) {
    std::ofstream out((dir + "/").toStdString() + name, std::ios::binary);
    out << content;
}

const std::vector<ChatMessage> kHello{{"user", "Hi"}};
const std::string kChatMLHello = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";

QString q(const std::string& s) {
    return QString::fromStdString(s);
}

}  // namespace

class TestChatFormat : public QObject {
    Q_OBJECT

private slots:
    void instruct_like_folder_data() {
        QTest::addColumn<std::vector<ChatMessage>>("messages");
        QTest::addColumn<bool>("add_generation_prompt");
        QTest::addColumn<std::string>("expected");
        QTest::newRow("one user turn") << kHello << true << kChatMLHello;
        QTest::newRow("no generation prompt") << kHello << false << std::string("<|im_start|>user\nHi<|im_end|>\n");
        QTest::newRow("system and turns")
            << std::vector<ChatMessage>{{"system", "Be brief."}, {"user", "2+2?"}, {"assistant", "4"}, {"user", "3+3?"}}
            << true
            << std::string(
                   "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n"
                   "<|im_start|>assistant\n4<|im_end|>\n<|im_start|>user\n3+3?<|im_end|>\n<|im_start|>assistant\n");
        QTest::newRow("content is not template code")
            << std::vector<ChatMessage>{{"user", "{{ x }} {% if %} <|im_end|> é😀"}} << false
            << std::string("<|im_start|>user\n{{ x }} {% if %} <|im_end|> é😀<|im_end|>\n");
        QTest::newRow("no messages") << std::vector<ChatMessage>{} << true << std::string("<|im_start|>assistant\n");
    }

    void instruct_like_folder() {
        QFETCH(std::vector<ChatMessage>, messages);
        QFETCH(bool, add_generation_prompt);
        QFETCH(std::string, expected);
        const std::string dir = kData + "/tokenizers/falcon-instruct-like";
        const auto tokenizer = FakeTokenizer::from_tokenizer_json(dir + "/tokenizer.json");
        auto format = ChatFormat::load(dir, tokenizer);
        QVERIFY2(format.ok(), format.error().c_str());
        QCOMPARE(format->mode(), ChatMode::Chat);
        QVERIFY(format->has_template());
        QCOMPARE(format->stop_ids(), (Ids{10, 11}));  // generation_config [11, 10] + <|im_end|> = 10
        QCOMPARE(format->bos_token(), std::string("<|begin_of_text|>"));
        QCOMPARE(format->eos_token(), std::string("<|im_end|>"));
        const auto stops = format->stop_strings();
        QVERIFY(std::find(stops.begin(), stops.end(), "<|im_end|>") != stops.end());
        std::ifstream in(dir + "/tokenizer_config.json");
        QCOMPARE(q(format->template_source()), q(nlohmann::json::parse(in).at("chat_template").get<std::string>()));
        auto out = format->render(messages, add_generation_prompt);
        QVERIFY2(out.ok(), out.error().c_str());
        QCOMPARE(q(*out), q(expected));
    }

    void base_folders_are_completion_data() {
        QTest::addColumn<std::string>("dir");
        QTest::addColumn<std::string>("tokenizer_json");
        QTest::newRow("falcon tokenizer")
            << kData + "/tokenizers/falcon-tokenizer" << kData + "/tokenizers/falcon-tokenizer/tokenizer.json";
        QTest::newRow("falcon-mamba-7b config")
            << kData + "/falcon-mamba-7b-config" << kData + "/tokenizers/falcon-tokenizer/tokenizer.json";
    }

    void base_folders_are_completion() {
        QFETCH(std::string, dir);
        QFETCH(std::string, tokenizer_json);
        const auto tokenizer = FakeTokenizer::from_tokenizer_json(tokenizer_json);
        auto format = ChatFormat::load(dir, tokenizer);
        QVERIFY2(format.ok(), format.error().c_str());
        QCOMPARE(format->mode(), ChatMode::Completion);
        QVERIFY(!format->has_template());
        QCOMPARE(format->template_source(), std::string());
        QCOMPARE(format->stop_ids(), Ids{11});  // <|endoftext|>
        QCOMPARE(format->eos_token(), std::string("<|endoftext|>"));
        auto out = format->render({{"user", "The capital of France is"}, {"assistant", " Paris"}}, true);
        QVERIFY(out.ok());
        QCOMPARE(*out, std::string("The capital of France is Paris"));  // plain text, nothing added
    }

    void synthetic_folders_data() {
        QTest::addColumn<Files>("files");
        QTest::addColumn<bool>("chatml_tokens");
        QTest::addColumn<ChatMode>("mode");
        QTest::addColumn<Ids>("stops");
        QTest::addColumn<std::string>("rendered");  // [user: Hi] with a generation prompt
        const std::string im_end = R"({"eos_token": "<|im_end|>"})";
        QTest::newRow("ChatML tokens, no template")
            << Files{{"tokenizer_config.json", im_end}} << true << ChatMode::ChatML << Ids{6} << kChatMLHello;
        QTest::newRow("ChatML tokens, no files at all")
            << Files{} << true << ChatMode::ChatML << Ids{6} << kChatMLHello;
        QTest::newRow("no ChatML tokens")
            << Files{{"tokenizer_config.json", im_end}} << false << ChatMode::Completion << Ids{} << std::string("Hi");
        QTest::newRow("nothing at all") << Files{} << false << ChatMode::Completion << Ids{} << std::string("Hi");
        QTest::newRow("template wins over ChatML")
            << Files{{"tokenizer_config.json",
                      R"({"chat_template": "[{{ messages[0].content }}]{{ eos_token }}", "eos_token": "<|endoftext|>"})"}}
            << true << ChatMode::Chat << Ids{1} << std::string("[Hi]<|endoftext|>");
        QTest::newRow("template list: default")
            << Files{{"tokenizer_config.json",
                      R"({"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D{{ messages | length }}"}]})"}}
            << false << ChatMode::Chat << Ids{} << std::string("D1");
        QTest::newRow("chat_template.jinja wins") << Files{{"tokenizer_config.json", R"({"chat_template": "T"})"},
                                                           {"chat_template.jinja", "J{{ bos_token }}\n"}}
                                                  << false << ChatMode::Chat << Ids{} << std::string("J");
        QTest::newRow("tokens as objects")
            << Files{{"tokenizer_config.json",
                      R"({"chat_template": "{{ bos_token }}|{{ eos_token }}", "bos_token": {"content": "<s>", "__type": "AddedToken"}, "eos_token": {"content": "<|im_end|>"}})"}}
            << true << ChatMode::Chat << Ids{6} << std::string("<s>|<|im_end|>");
        QTest::newRow("special_tokens_map fills in")
            << Files{{"tokenizer_config.json", R"({"chat_template": "{{ eos_token }}"})"},
                     {"special_tokens_map.json", R"({"eos_token": "<|endoftext|>"})"}}
            << false << ChatMode::Chat << Ids{1} << std::string("<|endoftext|>");
        QTest::newRow("stop ids: union of all sources") << Files{{"tokenizer_config.json", im_end},
                                                                 {"generation_config.json", R"({"eos_token_id": 3})"},
                                                                 {"config.json", R"({"eos_token_id": [4, 3, 9]})"}}
                                                        << true << ChatMode::ChatML << Ids{3, 4, 6, 9} << kChatMLHello;
        QTest::newRow("nulls mean absent")
            << Files{{"tokenizer_config.json", R"({"chat_template": null, "eos_token": null})"},
                     {"generation_config.json", R"({"eos_token_id": null})"}}
            << false << ChatMode::Completion << Ids{} << std::string("Hi");
        QTest::newRow("empty template is no template") << Files{{"tokenizer_config.json", R"({"chat_template": ""})"}}
                                                       << false << ChatMode::Completion << Ids{} << std::string("Hi");
        QTest::newRow("unknown eos token text") << Files{{"tokenizer_config.json", R"({"eos_token": "</s>"})"}} << false
                                                << ChatMode::Completion << Ids{} << std::string("Hi");
        QTest::newRow("context like transformers")
            << Files{{"tokenizer_config.json",
                      R"({"chat_template": "{{ messages[0] | tojson }} {{ tools }} {{ documents is none }} {{ add_generation_prompt }} {{ unk_token is defined }}"})"}}
            << false << ChatMode::Chat << Ids{}
            << std::string(R"({"role": "user", "content": "Hi"} None True True False)");
    }

    void synthetic_folders() {
        QFETCH(Files, files);
        QFETCH(bool, chatml_tokens);
        QFETCH(ChatMode, mode);
        QFETCH(Ids, stops);
        QFETCH(std::string, rendered);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        for (const auto& [name, content] : files) write_file(dir.path(), name, content);
        const auto tokenizer = synthetic_tokenizer(chatml_tokens);
        auto format = ChatFormat::load(dir.path().toStdString(), tokenizer);
        QVERIFY2(format.ok(), format.error().c_str());
        QCOMPARE(format->mode(), mode);
        QCOMPARE(format->stop_ids(), stops);
        auto out = format->render(kHello, true);
        QVERIFY2(out.ok(), out.error().c_str());
        QCOMPARE(q(*out), q(rendered));
    }

    void bad_folders_data() {
        QTest::addColumn<Files>("files");
        QTest::addColumn<std::string>("file");     // the error names it
        QTest::addColumn<std::string>("message");  // and says this
        QTest::newRow("garbled tokenizer_config")
            << Files{{"tokenizer_config.json", "{\"chat_template\": \"x\",,}"}} << std::string("tokenizer_config.json")
            << std::string("invalid JSON");
        QTest::newRow("garbled generation_config")
            << Files{{"generation_config.json", "{eos_token_id: 1}"}} << std::string("generation_config.json")
            << std::string("invalid JSON");
        QTest::newRow("garbled config") << Files{{"config.json", "[1, 2"}} << std::string("config.json")
                                        << std::string("invalid JSON");
        QTest::newRow("garbled special_tokens_map")
            << Files{{"special_tokens_map.json", "nope"}} << std::string("special_tokens_map.json")
            << std::string("invalid JSON");
        QTest::newRow("not an object") << Files{{"tokenizer_config.json", "[]"}} << std::string("tokenizer_config.json")
                                       << std::string("expected a JSON object");
        QTest::newRow("eos id of the wrong type")
            << Files{{"generation_config.json", R"({"eos_token_id": "11"})"}} << std::string("generation_config.json")
            << std::string("eos_token_id");
        QTest::newRow("negative eos id") << Files{{"config.json", R"({"eos_token_id": [2, -1]})"}}
                                         << std::string("config.json") << std::string("eos_token_id");
        QTest::newRow("eos token of the wrong type")
            << Files{{"tokenizer_config.json", R"({"eos_token": 5})"}} << std::string("tokenizer_config.json")
            << std::string("eos_token");
        QTest::newRow("template of the wrong type")
            << Files{{"tokenizer_config.json", R"({"chat_template": 3})"}} << std::string("tokenizer_config.json")
            << std::string("chat_template");
        QTest::newRow("template list without default")
            << Files{{"tokenizer_config.json", R"({"chat_template": [{"name": "rag", "template": "R"}]})"}}
            << std::string("tokenizer_config.json") << std::string("none named 'default'");
        QTest::newRow("template syntax error")
            << Files{{"tokenizer_config.json", R"({"chat_template": "ok\n{% if %}"})"}}
            << std::string("tokenizer_config.json") << std::string("chat template line 2, column 7");
        QTest::newRow("jinja file syntax error") << Files{{"chat_template.jinja", "{{ x"}}
                                                 << std::string("chat_template.jinja") << std::string("unclosed tag");
    }

    void bad_folders() {
        QFETCH(Files, files);
        QFETCH(std::string, file);
        QFETCH(std::string, message);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        for (const auto& [name, content] : files) write_file(dir.path(), name, content);
        const auto tokenizer = synthetic_tokenizer(true);
        auto format = ChatFormat::load(dir.path().toStdString(), tokenizer);
        QVERIFY(!format.ok());
        QVERIFY2(format.error().find(file) != std::string::npos, format.error().c_str());
        QVERIFY2(format.error().find(message) != std::string::npos, format.error().c_str());
    }

    void render_errors() {
        QTemporaryDir dir;
        write_file(
            dir.path(), "tokenizer_config.json",
            R"({"chat_template": "{% for m in messages %}{% if m.role not in ['user', 'assistant'] %}{{ raise_exception('Unknown role: ' + m.role) }}{% endif %}{{ m.content }}{% endfor %}"})");
        const auto tokenizer = synthetic_tokenizer(false);
        auto format = ChatFormat::load(dir.path().toStdString(), tokenizer);
        QVERIFY2(format.ok(), format.error().c_str());
        QCOMPARE(*format->render({{"user", "a"}, {"assistant", "b"}}, false), std::string("ab"));
        auto bad = format->render({{"user", "a"}, {"wizard", "b"}}, false);
        QVERIFY(!bad.ok());
        QCOMPARE(bad.error(), std::string("Unknown role: wizard"));
    }

    void overrides() {
        const std::string dir = kData + "/tokenizers/falcon-instruct-like";
        const auto tokenizer = FakeTokenizer::from_tokenizer_json(dir + "/tokenizer.json");
        auto format = ChatFormat::load(dir, tokenizer);
        QVERIFY(format.ok());

        auto custom =
            format->with_template("{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}");
        QVERIFY2(custom.ok(), custom.error().c_str());
        QCOMPARE(custom->mode(), ChatMode::Chat);
        QCOMPARE(custom->stop_ids(), format->stop_ids());
        QCOMPARE(*custom->render(kHello, true), std::string("<|begin_of_text|><user>Hi"));
        QVERIFY(!format->with_template("{% for %}").ok());

        ChatFormat plain = format->as_completion();
        QCOMPARE(plain.mode(), ChatMode::Completion);
        QCOMPARE(plain.stop_ids(), format->stop_ids());
        QCOMPARE(*plain.render(kHello, true), std::string("Hi"));
        QCOMPARE(q(*format->render(kHello, true)), q(kChatMLHello));  // the original is unchanged
    }

    // Tools, documents and extra variables reach the template, as apply_chat_template's
    // arguments do (an extra variable may override a special token); tools and documents are
    // untrusted text in the segments, like contents.
    void extras() {
        const std::string dir = kData + "/tokenizers/falcon-instruct-like";
        const auto tokenizer = FakeTokenizer::from_tokenizer_json(dir + "/tokenizer.json");
        auto format = ChatFormat::load(dir, tokenizer);
        QVERIFY(format.ok());
        auto custom = format->with_template(
            "{% if tools %}[{{ tools | map(attribute='name') | join(',') }}]{% endif %}"
            "{% for d in documents or [] %}({{ d.text }}){% endfor %}"
            "{{ 'think' if enable_thinking is not defined or enable_thinking else 'fast' }}|{{ bos_token }}"
            "{% for m in messages %}{{ m.content }}{% endfor %}|{{ strftime_now('%Y-%m-%d') }}");
        QVERIFY2(custom.ok(), custom.error().c_str());
        fm::ChatExtras extras;
        extras.tools = nlohmann::ordered_json::array({{{"name", "a"}}, {{"name", "<|im_end|>"}}});
        extras.documents = nlohmann::ordered_json::array({{{"text", "doc"}}});
        extras.variables = {{"enable_thinking", false}, {"bos_token", "B"}};
        extras.options.now = [] {
            std::tm t{};
            t.tm_year = 99, t.tm_mon = 11, t.tm_mday = 31;
            return t;
        };
        auto out = custom->render(kHello, true, extras);
        QVERIFY2(out.ok(), out.error().c_str());
        QCOMPARE(q(*out), q("[a,<|im_end|>](doc)fast|BHi|1999-12-31"));
        auto plain = custom->render(kHello, true);
        QVERIFY2(plain.ok(), plain.error().c_str());
        QVERIFY2(plain->rfind("think|<|begin_of_text|>Hi|", 0) == 0, plain->c_str());

        auto segments = custom->render_segments(kHello, true, extras);
        QVERIFY2(segments.ok(), segments.error().c_str());
        std::string joined, trusted;
        for (const auto& seg : *segments) {
            joined += seg.text;
            if (seg.parse_special) trusted += seg.text;
        }
        QCOMPARE(q(joined), q(*out));
        QCOMPARE(q(trusted), q("[,]()fast|B|1999-12-31"));  // the tools' and documents' text is not

        extras.variables = {{"tools", nullptr}};
        auto twice = custom->render(kHello, true, extras);
        QVERIFY(!twice.ok());
        QVERIFY2(twice.error().find("given twice") != std::string::npos, twice.error().c_str());
    }

    void default_constructed() {
        ChatFormat format;
        QCOMPARE(format.mode(), ChatMode::Completion);
        QVERIFY(format.stop_ids().empty());
        QCOMPARE(*format.render({{"user", "a"}, {"user", "b"}}, true), std::string("ab"));
    }
};

QTEST_GUILESS_MAIN(TestChatFormat)
#include "test_chat_format.moc"
