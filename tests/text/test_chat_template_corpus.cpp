// Real chat templates against Python Jinja2: every template of tests/data/template_corpus
// (copied from the packages its README names) with every conversation, compared byte for byte
// with what Jinja2 rendered the way transformers renders (expected.json, written by
// tests/tools/reference/gen_template_corpus.py). Where Jinja2 raised raise_exception's message, the same
// message; where Jinja2 rejected the template or failed while rendering, a clean error that
// names the template's line and column.

#include <QtTest>

#include <ctime>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "inference/chat/chat_template.h"

using fm::ChatTemplate;
using ordered_json = nlohmann::ordered_json;

Q_DECLARE_METATYPE(std::string)

namespace {

const std::string kCorpusDir = std::string(FM_TEST_DATA_DIR) + "/template_corpus/";

const ordered_json& load(const std::string& name) {
    static std::map<std::string, ordered_json> cache;
    auto it = cache.find(name);
    if (it == cache.end()) {
        std::ifstream in(kCorpusDir + name, std::ios::binary);
        std::ostringstream buf;
        buf << in.rdbuf();
        it = cache.emplace(name, ordered_json::parse(buf.str())).first;
    }
    return it->second;
}

// The fixed time the generator gave strftime_now ("2024-07-26T09:30:05").
std::tm corpus_now() {
    const std::string iso = load("expected.json").at("now").get<std::string>();
    std::tm t{};
    std::istringstream in(iso);
    in >> std::get_time(&t, "%Y-%m-%dT%H:%M:%S");
    const std::time_t seconds = timegm(&t);  // fills in the weekday and the day of the year
    gmtime_r(&seconds, &t);
    return t;
}

struct Outcome {
    bool ok = false;
    std::string text;  // the rendering, or the error
};

Outcome render_case(const std::string& template_name, const std::string& conversation_name) {
    const ordered_json& spec = load("templates.json").at(template_name);
    const ordered_json& conversation = load("conversations.json").at(conversation_name);
    auto tpl = ChatTemplate::parse(spec.at("template").get<std::string>());
    if (!tpl) return {false, tpl.error()};
    fm::TemplateInput input;
    input.messages = conversation.at("messages");
    input.add_generation_prompt = conversation.at("add_generation_prompt").get<bool>();
    input.tools = conversation.value("tools", ordered_json());
    input.documents = conversation.value("documents", ordered_json());
    input.variables = spec.at("special_tokens");
    const ordered_json variables = conversation.value("variables", ordered_json::object());
    for (const auto& [key, value] : variables.items()) input.variables[key] = value;
    fm::TemplateOptions options;
    options.now = corpus_now;
    auto out = tpl->render(input, options);
    return out ? Outcome{true, *out} : Outcome{false, out.error()};
}

// Whether `outcome` is what expected.json says for its case; `why` says how not.
bool matches(const ordered_json& expected, const Outcome& outcome, std::string* why) {
    if (expected.contains("output")) {
        if (!outcome.ok) return *why = "failed: " + outcome.text, false;
        if (outcome.text != expected.at("output").get<std::string>()) return *why = "renders differently", false;
        return true;
    }
    if (outcome.ok) return *why = "rendered, but Jinja2 did not", false;
    if (expected.contains("raises")) {
        if (outcome.text != expected.at("raises").get<std::string>()) return *why = "raised " + outcome.text, false;
        return true;
    }
    const bool located =
        outcome.text.find("line ") != std::string::npos && outcome.text.find("column ") != std::string::npos;
    if (!located) return *why = "error without a line and column: " + outcome.text, false;
    return true;
}

// Whether a failure names the line Jinja2 named. Not required: Jinja2 names the line of the
// statement (for {{ }}, of the expression's outermost operator) while this engine names the
// exact failing operand, which differ in expressions that span lines.
bool same_line(const ordered_json& expected, const Outcome& outcome) {
    if (!expected.contains("line") || expected.at("line").is_null()) return false;
    return outcome.text.find("line " + std::to_string(expected.at("line").get<int>()) + ",") != std::string::npos;
}

}  // namespace

class TestChatTemplateCorpus : public QObject {
    Q_OBJECT

private slots:
    void corpus_is_large_enough() {
        QVERIFY(load("templates.json").size() >= 25);
        QVERIFY(load("conversations.json").size() >= 6);
        for (const auto& [name, spec] : load("templates.json").items()) {
            QVERIFY2(!spec.at("source").get<std::string>().empty(), name.c_str());
            QVERIFY2(!spec.at("model").get<std::string>().empty(), name.c_str());
        }
    }

    void cases_data() {
        QTest::addColumn<std::string>("template_name");
        QTest::addColumn<std::string>("conversation");
        QTest::addColumn<int>("index");
        const auto& cases = load("expected.json").at("cases");
        QCOMPARE(cases.size(), load("templates.json").size() * load("conversations.json").size());
        int index = 0;
        for (const auto& c : cases) {
            const std::string t = c.at("template"), conv = c.at("conversation");
            QTest::newRow((t + " x " + conv).c_str()) << t << conv << index++;
        }
    }

    void cases() {
        QFETCH(std::string, template_name);
        QFETCH(std::string, conversation);
        QFETCH(int, index);
        const ordered_json& expected = load("expected.json").at("cases").at(static_cast<size_t>(index));
        const Outcome outcome = render_case(template_name, conversation);
        std::string why;
        if (!matches(expected, outcome, &why) && expected.contains("output") && outcome.ok)
            QCOMPARE(QString::fromStdString(outcome.text),
                     QString::fromStdString(expected.at("output").get<std::string>()));
        QVERIFY2(matches(expected, outcome, &why), why.c_str());
    }

    // One line for the record: how many cases agree with Jinja2.
    void pass_rate() {
        const auto& cases = load("expected.json").at("cases");
        size_t passed = 0, failures = 0, failures_on_jinja_line = 0;
        for (const auto& c : cases) {
            std::string why;
            const Outcome outcome = render_case(c.at("template"), c.at("conversation"));
            if (matches(c, outcome, &why)) ++passed;
            if (c.contains("fails")) {
                ++failures;
                failures_on_jinja_line += same_line(c, outcome) ? 1 : 0;
            }
        }
        qInfo(
            "template corpus: %zu of %zu cases as Jinja2 renders them (%zu templates x %zu conversations); %zu of "
            "the %zu failures name the line Jinja2 names",
            passed, cases.size(), load("templates.json").size(), load("conversations.json").size(),
            failures_on_jinja_line, failures);
        QCOMPARE(passed, cases.size());
    }
};

QTEST_GUILESS_MAIN(TestChatTemplateCorpus)
#include "test_chat_template_corpus.moc"
