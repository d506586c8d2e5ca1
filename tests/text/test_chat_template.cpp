// Chat templates: exact equality with what Jinja2 renders the way transformers does.
//  - expectations: every template in tests/data/templates/*.jinja x every message set, against
//    tests/data/templates/expected.json (made by tests/tools/reference/gen_template_expectations.py).
//  - features: one small template per feature; expected outputs also produced by Jinja2.
//  - errors: syntax and evaluation errors say where (line, column) and what.

#include <QtTest>

#include <ctime>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "inference/chat/chat_template.h"

using fm::ChatTemplate;
using ordered_json = nlohmann::ordered_json;

Q_DECLARE_METATYPE(std::string)

namespace {

const std::string kTemplateDir = std::string(FM_TEST_DATA_DIR) + "/templates/";

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

const ordered_json& expected_file() {
    static const ordered_json j = ordered_json::parse(read_file(kTemplateDir + "expected.json"));
    return j;
}

const ordered_json& features_file() {
    static const ordered_json j = ordered_json::parse(read_file(kTemplateDir + "features.json"));
    return j;
}

QString q(const std::string& s) {
    return QString::fromStdString(s);
}

void feature(const char* name, std::string source, std::string context, bool ok, std::string expected) {
    QTest::newRow(name) << std::move(source) << std::move(context) << ok << std::move(expected);
}

}  // namespace

class TestChatTemplate : public QObject {
    Q_OBJECT

private slots:
    void expectations_data() {
        QTest::addColumn<std::string>("file");
        QTest::addColumn<std::string>("message_set");
        const auto& cases = expected_file().at("cases");
        QVERIFY(cases.size() >= 50);
        for (const auto& c : cases) {
            const std::string file = c.at("template"), set = c.at("message_set");
            QTest::newRow((file + " x " + set).c_str()) << file << set;
        }
    }

    void expectations() {
        QFETCH(std::string, file);
        QFETCH(std::string, message_set);
        const auto& all = expected_file();
        const ordered_json* expected = nullptr;
        for (const auto& c : all.at("cases"))
            if (c.at("template") == file && c.at("message_set") == message_set) expected = &c;
        QVERIFY(expected);

        // The context the generator rendered with: the message set's context plus the
        // template's special tokens.
        ordered_json context = all.at("contexts").at(message_set);
        for (const auto& [key, value] : all.at("templates").at(file).items()) context[key] = value;

        auto tpl = ChatTemplate::parse(read_file(kTemplateDir + file));
        QVERIFY2(tpl.ok(), tpl.error().c_str());
        auto out = tpl->render_ordered(context);
        if (expected->contains("output")) {
            QVERIFY2(out.ok(), out.error().c_str());
            QCOMPARE(q(*out), q(expected->at("output").get<std::string>()));
        } else if (expected->contains("raises")) {
            QVERIFY2(!out.ok(), "expected raise_exception");
            QCOMPARE(q(out.error()), q(expected->at("raises").get<std::string>()));
        } else {
            QVERIFY2(!out.ok(), ("expected an error like: " + expected->at("fails").get<std::string>()).c_str());
            QVERIFY2(out.error().find("line ") != std::string::npos, out.error().c_str());
        }
    }

    void features_data() {
        QTest::addColumn<std::string>("source");
        QTest::addColumn<std::string>("context");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<std::string>("expected");
        // Generated with jinja2 3.1 (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
        // loopcontrols, transformers' tojson and raise_exception).
        feature("text only", "plain text\n", "{}", true, "plain text");
        feature("trim_blocks", "{% if true %}\nA\n{% endif %}\nB", "{}", true, "A\nB");
        feature("lstrip_blocks", "x\n    {% if true %}\n    y\n    {% endif %}\nz", "{}", true, "x\n    y\nz");
        feature("minus strips", "a  \n {{- 'b' -}} \n  c {%- if true %} d{% endif -%}  \n e", "{}", true, "abc de");
        feature("plus keeps", "a\n  {%+ if true +%}\nb{% endif %}", "{}", true, "a\n  \nb");
        feature("comments", "a {# note #}\n  {#- gone -#}  b\n{# line #}\nc", "{}", true, "a b\nc");
        feature("raw", "{% raw %}{{ kept }}{% endraw %}", "{}", true, "{{ kept }}");
        feature("variable not lstripped", "x\n  {{ 'v' }}\n", "{}", true, "x\n  v");
        feature("undefined prints empty", "[{{ nothing }}][{{ nothing is defined }}][{{ {}.missing }}]", "{}", true,
                "[][False][]");
        feature("undefined is falsy", "{% if nothing %}yes{% else %}no{% endif %}{{ nothing | default('d') }}", "{}",
                true, "nod");
        feature("none and booleans", "{{ none }} {{ true }} {{ false }} {{ x }}", "{\"x\": null}", true,
                "None True False None");
        feature("numbers",
                "{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 8 }} {{ 1.5 * 2 }} {{ 10 - 2 - 3 }} {{ "
                "1e3 }} {{ 0.1 + 0.2 }}",
                "{}", true, "3 -4 2 3.5 256 3.0 5 1000.0 0.30000000000000004");
        feature("string concat", "{{ 'a' + 'b' ~ 1 ~ none }}", "{}", true, "ab1None");
        feature("comparisons",
                "{{ 1 < 2 }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ [1, 2] == [1, 2] }} {{ 1 != 2 }} {{ 2 >= 3 }} {{ 1 < 2 "
                "< 3 }}",
                "{}", true, "True True True True True False True");
        feature("in and not in", "{{ 'b' in 'abc' }} {{ 3 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'x' not in ['x'] }}",
                "{}", true, "True False True False");
        feature("logic", "{{ not 0 }} {{ 1 and 'x' }} {{ 0 or 'y' }} {{ none or [] }} {{ not (1 and 0) }}", "{}", true,
                "True x y [] True");
        feature("ternary", "{{ 'a' if x else 'b' }}{{ 'c' if not x }}", "{\"x\": 0}", true, "bc");
        feature("loop variables",
                "{% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length "
                "}}{{ loop.revindex }} {% endfor %}",
                "{\"messages\": [{\"role\": \"system\", \"content\": \"Sys\"}, {\"role\": \"user\", \"content\": \" Hi "
                "é \"}, {\"role\": \"assistant\", \"content\": \"Yo\"}]}",
                true, "10TrueFalse33 21FalseFalse32 32FalseTrue31 ");
        feature("loop cycle and neighbours",
                "{% for m in messages %}{{ loop.cycle('a', 'b') }}{{ loop.previtem.role if loop.previtem is defined "
                "}}|{% endfor %}",
                "{\"messages\": [{\"role\": \"system\", \"content\": \"Sys\"}, {\"role\": \"user\", \"content\": \" Hi "
                "é \"}, {\"role\": \"assistant\", \"content\": \"Yo\"}]}",
                true, "a|bsystem|auser|");
        feature("loop filter and else",
                "{% for m in messages if m.role != 'system' %}{{ m.role }}{{ loop.index }} {% else %}none{% endfor "
                "%}{% for m in [] %}x{% else %}empty{% endfor %}",
                "{\"messages\": [{\"role\": \"system\", \"content\": \"Sys\"}, {\"role\": \"user\", \"content\": \" Hi "
                "é \"}, {\"role\": \"assistant\", \"content\": \"Yo\"}]}",
                true, "user1 assistant2 empty");
        feature("break and continue",
                "{% for i in range(10) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 4 %}{% break %}{% endif "
                "%}{{ i }}{% endfor %}",
                "{}", true, "023");
        feature(
            "tuple unpacking",
            "{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}{% set a, b = 1, 2 %}{{ a + b }}",
            "{}", true, "a=1;b=2;3");
        feature("set does not leak from loops",
                "{% set x = 0 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %}|{{ x }}", "{}", true,
                "12|0");
        feature("set leaks from if", "{% if true %}{% set x = 5 %}{% endif %}{{ x }}", "{}", true, "5");
        feature("namespace",
                "{% set ns = namespace(n=0, s='') %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% set ns.s = ns.s "
                "~ m.role[0] %}{% endfor %}{{ ns.n }} {{ ns.s }}",
                "{\"messages\": [{\"role\": \"system\", \"content\": \"Sys\"}, {\"role\": \"user\", \"content\": \" Hi "
                "é \"}, {\"role\": \"assistant\", \"content\": \"Yo\"}]}",
                true, "3 sua");
        feature("set block", "{% set body %}Hello {{ name }}!{% endset %}[{{ body }}]", "{\"name\": \"you\"}", true,
                "[Hello you!]");
        feature("macro",
                "{% macro tag(name, close=false) %}<{{ '/' if close }}{{ name }}>{% endmacro %}{{ tag('a') }}x{{ "
                "tag('a', close=true) }}",
                "{}", true, "<a>x</a>");
        feature(
            "attributes and subscripts",
            "{{ messages[0].role }} {{ messages[1]['content'] }} {{ messages[-1].content }} {{ messages[0].missing }}",
            "{\"messages\": [{\"role\": \"system\", \"content\": \"Sys\"}, {\"role\": \"user\", \"content\": \" Hi é "
            "\"}, {\"role\": \"assistant\", \"content\": \"Yo\"}]}",
            true, "system  Hi é  Yo ");
        feature("slices",
                "{{ messages[1:] | length }} {{ 'abcdef'[1:3] }} {{ 'abcdef'[::-1] }} {{ [1, 2, 3, 4][-2:] }} {{ "
                "'héllo'[1:3] }}",
                "{\"messages\": [{\"role\": \"system\", \"content\": \"Sys\"}, {\"role\": \"user\", \"content\": \" Hi "
                "é \"}, {\"role\": \"assistant\", \"content\": \"Yo\"}]}",
                true, "2 bc fedcba [3, 4] él");
        feature("literals",
                "{{ [1, 'a', none, true] }} {{ {'k': 'v', 'n': [1]} }} {{ (1, 2) }} {{ 'it\\'s' }} {{ \"q\\\"\\n\" | "
                "tojson }}",
                "{}", true, "[1, 'a', None, True] {'k': 'v', 'n': [1]} (1, 2) it's \"q\\\"\\n\"");
        feature("string methods",
                "{{ '  a b  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('z', "
                "'c')) }}|{{ 'MiXed'.upper() }}{{ 'MiXed'.lower() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() "
                "}}|{{ 'aXbX'.replace('X', '-') }}|{{ 'hello world'.title() }}|{{ 'a-b'.split('-', 1) }}|{{ 'x y "
                "z'.rsplit(' ', 1) }}",
                "{}", true,
                "a b|a|TrueTrue|MIXEDmixed|['a', 'b', '', 'c']|['a', 'b']|a-b-|Hello World|['a', 'b']|['x y', 'z']");
        feature("dict methods",
                "{{ d.get('a') }} {{ d.get('z', 'dflt') }} {{ d.keys() | list }} {{ d.values() | list }} {{ d.items() "
                "| list }}",
                "{\"d\": {\"a\": 1, \"b\": 2}}", true, "1 dflt ['a', 'b'] [1, 2] [('a', 1), ('b', 2)]");
        feature("filters on strings",
                "{{ '  pad  ' | trim }}|{{ 'up' | upper }}|{{ 'LOW' | lower }}|{{ 'hELLO wORLD' | capitalize }}|{{ 'a "
                "b-c' | title }}|{{ 'héllo' | length }}|{{ 5 | string ~ '!' }}|{{ 'abc' | replace('b', 'B') }}",
                "{}", true, "pad|UP|low|Hello world|A B-C|5|5!|aBc");
        feature("filters on lists",
                "{{ [3, 1, 2] | first }} {{ [3, 1, 2] | last }} {{ [3, 1, 2] | sort | join(',') }} {{ [3, 1, 2] | "
                "length }} {{ ['a', 'b'] | join }} {{ messages | map(attribute='role') | join('/') }} {{ messages | "
                "selectattr('role', 'equalto', 'user') | list | length }} {{ [1, 2, 2] | unique | list }} {{ [1, 2, 3] "
                "| sum }} {{ [1, 2] | reverse | list }}",
                "{\"messages\": [{\"role\": \"system\", \"content\": \"Sys\"}, {\"role\": \"user\", \"content\": \" Hi "
                "é \"}, {\"role\": \"assistant\", \"content\": \"Yo\"}]}",
                true, "3 2 1,2,3 3 ab system/user/assistant 1 [1, 2] 6 [2, 1]");
        feature("default filter",
                "{{ missing | default('a') }} {{ '' | default('b') }} {{ '' | default('c', true) }} {{ none | "
                "default('d') }} {{ 0 | d('e', true) }}",
                "{}", true, "a  c None e");
        feature("tojson",
                "{{ 'héllo \"☃\" 😀\\n\\t<>&' | tojson }} {{ {'b': [1, 2.5, none, true], 'a': {}} | tojson }} {{ [] | "
                "tojson }} {{ {'x': [1]} | tojson(indent=2) }} {{ 'é' | tojson(ensure_ascii=true) }}",
                "{}", true,
                "\"héllo \\\"☃\\\" 😀\\n\\t<>&\" {\"b\": [1, 2.5, null, true], \"a\": {}} [] {\n  \"x\": [\n    1\n  "
                "]\n} \"\\u00e9\"");
        feature("tojson keeps message key order", "{{ messages[0] | tojson }}",
                "{\"messages\": [{\"role\": \"system\", \"content\": \"Sys\"}, {\"role\": \"user\", \"content\": \" Hi "
                "é \"}, {\"role\": \"assistant\", \"content\": \"Yo\"}]}",
                true, "{\"role\": \"system\", \"content\": \"Sys\"}");
        feature("tests",
                "{{ x is defined }}{{ y is defined }}{{ y is undefined }}{{ none is none }}{{ 's' is string }}{{ 1 is "
                "string }}{{ 1 is number }}{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ {} is mapping }}{{ "
                "[] is iterable }}{{ 1 is not none }}{{ 'a' is eq 'a' }}{{ 'ABC' is upper }}",
                "{\"x\": 1}", true, "TrueFalseTrueTrueTrueFalseTrueTrueTrueTrueTrueTrueTrueTrueTrue");
        feature("int and float filters",
                "{{ '42' | int + 1 }} {{ 'x' | int }} {{ 3.9 | int }} {{ '2.5' | float }} {{ 2.5 | round }} {{ 3.14159 "
                "| round(2) }} {{ -3 | abs }}",
                "{}", true, "43 0 3 2.5 2.0 3.14 3");
        feature("indent", "{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(4, true) }}", "{}", true,
                "a\n  b\n\n  c|    a\n    b");
        feature("items and dictsort", "{{ {'b': 1, 'a': 2} | dictsort }} {{ {'b': 1, 'a': 2} | items | list }}", "{}",
                true, "[('a', 2), ('b', 1)] [('b', 1), ('a', 2)]");
        feature("percent format", "{{ '%s and %d' % ('x', 3) }} {{ 'v=%s' % 1.5 }}", "{}", true, "x and 3 v=1.5");
        feature("unicode passes through", "{{ s }}|{{ s | upper }}|{{ s | length }}|{{ s[0] }}{{ s[-1] }}",
                "{\"s\": \"Grüße 你好 😀\"}", true, "Grüße 你好 😀|GRÜSSE 你好 😀|10|G😀");
        feature("template-like content is data", "{{ c }}", "{\"c\": \"{{ x }} {% if %} <|im_end|> {# #}\"}", true,
                "{{ x }} {% if %} <|im_end|> {# #}");
        feature("raise_exception",
                "{% if true %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}", "{}",
                false, "Only user and assistant roles are supported!");
    }

    void features() {
        QFETCH(std::string, source);
        QFETCH(std::string, context);
        QFETCH(bool, ok);
        QFETCH(std::string, expected);
        auto tpl = ChatTemplate::parse(source);
        QVERIFY2(tpl.ok(), tpl.error().c_str());
        QCOMPARE(q(tpl->source()), q(source));
        auto out = tpl->render_ordered(ordered_json::parse(context));
        QCOMPARE(out.ok(), ok);
        QCOMPARE(q(ok ? *out : out.error()), q(expected));
    }

    // One small template per Jinja2 feature (tests/data/templates/features.json, written by
    // tests/tools/reference/gen_template_features.py with Jinja2 as transformers configures it).
    void jinja2_features_data() {
        QTest::addColumn<int>("index");
        const auto& cases = features_file().at("cases");
        QVERIFY(cases.size() >= 20);
        for (size_t i = 0; i < cases.size(); ++i)
            QTest::newRow(cases[i].at("name").get<std::string>().c_str()) << static_cast<int>(i);
    }

    void jinja2_features() {
        QFETCH(int, index);
        const ordered_json& c = features_file().at("cases").at(static_cast<size_t>(index));
        auto tpl = ChatTemplate::parse(c.at("template").get<std::string>());
        fm::TemplateOptions options;
        options.now = [] {
            std::tm t{};  // the generator's fixed time: 2024-07-26 09:30:05, a Friday
            t.tm_year = 124, t.tm_mon = 6, t.tm_mday = 26, t.tm_hour = 9, t.tm_min = 30, t.tm_sec = 5;
            t.tm_wday = 5, t.tm_yday = 207;
            return t;
        };
        QCOMPARE(QString::fromStdString(features_file().at("now").get<std::string>()),
                 QStringLiteral("2024-07-26T09:30:05"));
        std::string outcome;
        bool ok = false;
        if (tpl) {
            auto out = tpl->render_ordered(c.at("context"), options);
            ok = out.ok();
            outcome = ok ? *out : out.error();
        } else {
            outcome = tpl.error();
        }
        if (c.contains("output")) {
            QVERIFY2(ok, outcome.c_str());
            QCOMPARE(q(outcome), q(c.at("output").get<std::string>()));
        } else if (c.contains("raises")) {
            QVERIFY(!ok);
            QCOMPARE(q(outcome), q(c.at("raises").get<std::string>()));
        } else {
            QVERIFY2(!ok, ("rendered, but Jinja2 failed: " + c.at("fails").get<std::string>()).c_str());
            QVERIFY2(outcome.find("line ") != std::string::npos, outcome.c_str());
        }
    }

    // Random small templates (tests/data/templates/random.json, written by
    // tests/tools/reference/gen_template_random.py): every one renders as Jinja2 renders it, or fails
    // where Jinja2 fails. One slot for all, so a mismatch lists every case that differs.
    void jinja2_random_templates() {
        static const ordered_json j = ordered_json::parse(read_file(kTemplateDir + "random.json"));
        const ordered_json& context = j.at("context");
        const auto& cases = j.at("cases");
        QVERIFY(cases.size() >= 1000);
        size_t agree = 0;
        std::string report;
        for (const auto& c : cases) {
            auto tpl = ChatTemplate::parse(c.at("template").get<std::string>());
            std::string outcome;
            bool ok = false;
            if (tpl) {
                auto out = tpl->render_ordered(context);
                ok = out.ok();
                outcome = ok ? *out : out.error();
            } else {
                outcome = tpl.error();
            }
            bool same = false;
            if (c.contains("output"))
                same = ok && outcome == c.at("output").get<std::string>();
            else if (c.contains("raises"))
                same = !ok && outcome == c.at("raises").get<std::string>();
            else
                same = !ok && outcome.find("line ") != std::string::npos;
            if (same) {
                ++agree;
            } else if (report.size() < 4000) {
                report += "\n  " + c.at("template").get<std::string>() + "\n    Jinja2: " +
                          (c.contains("output") ? c.at("output").get<std::string>() : c.value("fails", "raises")) +
                          "\n    here: " + outcome;
            }
        }
        qInfo("random templates: %zu of %zu as Jinja2 renders them", agree, cases.size());
        QVERIFY2(agree == cases.size(), report.c_str());
    }

    void errors_data() {
        QTest::addColumn<std::string>("source");
        QTest::addColumn<bool>("at_parse");
        QTest::addColumn<std::string>("message");
        QTest::newRow("unclosed tag") << std::string("a\n{% if x %}b") << true
                                      << std::string("chat template line 2, column 12: unexpected end of template");
        QTest::newRow("unclosed expression")
            << std::string("{{ x ") << true << std::string("chat template line 1, column 1: unclosed tag");
        QTest::newRow("unclosed string") << std::string("{{ 'abc }}") << true
                                         << std::string("chat template line 1, column 4: unclosed string literal");
        QTest::newRow("unclosed comment")
            << std::string("x {# note") << true << std::string("chat template line 1, column 3: unclosed comment");
        QTest::newRow("stray end tag") << std::string("\n\n  {% endfor %}") << true
                                       << std::string("chat template line 3, column 6: unexpected '{% endfor %}'");
        QTest::newRow("unknown tag") << std::string("{% include 'x' %}") << true
                                     << std::string("chat template line 1, column 4: unknown tag 'include'");
        QTest::newRow("unknown filter") << std::string("{{ x | frobnicate }}") << true
                                        << std::string("chat template line 1, column 8: no filter named 'frobnicate'");
        QTest::newRow("bad expression") << std::string("{{ 1 + }}") << true
                                        << std::string("chat template line 1, column 8: unexpected '}}'");
        QTest::newRow("break outside loop")
            << std::string("{% break %}") << true << std::string("'break' outside of a loop");
        QTest::newRow("attribute of undefined")
            << std::string("line one\n  {{ nothing.role }}") << false
            << std::string("chat template line 2, column 6: 'nothing' is undefined");
        QTest::newRow("undefined operand") << std::string("{{ 1 +\n  nothing }}") << false
                                           << std::string("chat template line 2, column 3: 'nothing' is undefined");
        QTest::newRow("type error") << std::string("{{ 'a' + 1 }}") << false
                                    << std::string("unsupported operand type(s) for +: 'str' and 'int'");
        QTest::newRow("set on non-namespace") << std::string("{% set d = {} %}{% set d.x = 1 %}") << false
                                              << std::string("cannot assign attribute on non-namespace object");
        QTest::newRow("mutating a list") << std::string("{% set l = [] %}{{ l.append(1) }}") << false
                                         << std::string("access to attribute 'append' of 'list' object is unsafe");
        QTest::newRow("calling a non-function")
            << std::string("{{ 'x'() }}") << false << std::string("'str' object is not callable");
        QTest::newRow("range too big") << std::string("{% for i in range(1000000000) %}{% endfor %}") << false
                                       << std::string("range too big");
        QTest::newRow("huge repetition") << std::string("{{ 'x' * 10000000000 }}") << false
                                         << std::string("string repetition too large");
        QTest::newRow("division by zero")
            << std::string("{{ 1 // 0 }}") << false << std::string("integer division or modulo by zero");
        QTest::newRow("endless recursion") << std::string("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}") << false
                                           << std::string("calls itself too deeply");
        std::string long_sum = "{{ 1", long_filters = "{{ 'x'";
        for (int i = 0; i < 100000; ++i) long_sum += " + 1", long_filters += " | trim";
        QTest::newRow("long operator chain") << long_sum + " }}" << true << std::string("nested too deeply");
        QTest::newRow("long filter chain") << long_filters + " }}" << true << std::string("nested too deeply");
        QTest::newRow("deep nesting") << "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}" << true
                                      << std::string("nested too deeply");
    }

    void errors() {
        QFETCH(std::string, source);
        QFETCH(bool, at_parse);
        QFETCH(std::string, message);
        auto tpl = ChatTemplate::parse(source);
        QCOMPARE(tpl.ok(), !at_parse);
        std::string error = at_parse ? tpl.error() : std::string();
        if (!at_parse) {
            auto out = tpl->render(nlohmann::json::object());
            QVERIFY(!out.ok());
            error = out.error();
        }
        QVERIFY2(error.find(message) != std::string::npos, ("got: " + error).c_str());
    }

    void sorted_json_context() {
        // A plain nlohmann::json context works too; its keys come sorted.
        auto tpl =
            ChatTemplate::parse("{% for m in messages %}{{ m | tojson }}{% endfor %}{{ add_generation_prompt }}");
        QVERIFY(tpl.ok());
        nlohmann::json ctx = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"add_generation_prompt", true}};
        auto out = tpl->render(ctx);
        QVERIFY2(out.ok(), out.error().c_str());
        QCOMPARE(q(*out), QStringLiteral("{\"content\": \"hi\", \"role\": \"user\"}True"));
        QVERIFY(!tpl->render(nlohmann::json::array()).ok());
    }

    void invalid_utf8_passes_through() {
        auto tpl = ChatTemplate::parse("[{{ s }}|{{ s | length }}|{{ s | upper }}]");
        QVERIFY(tpl.ok());
        auto out = tpl->render(nlohmann::json{{"s", std::string("a\xff"
                                                                "b")}});
        QVERIFY2(out.ok(), out.error().c_str());
        QCOMPARE(*out, std::string("[a\xff"
                                   "b|3|A\xff"
                                   "B]"));
    }

    void template_input() {
        auto tpl = ChatTemplate::parse(
            "{{ messages | length }}{{ add_generation_prompt }}{{ tools | tojson }}{{ documents }}{{ x }}{{ bos_token "
            "}}");
        QVERIFY(tpl.ok());
        fm::TemplateInput input;
        input.messages = ordered_json::array({{{"role", "user"}, {"content", "hi"}}});
        input.add_generation_prompt = true;
        input.tools = ordered_json::array({{{"type", "function"}}});
        input.variables = {{"x", 7}, {"bos_token", "<s>"}};
        auto out = tpl->render(input);
        QVERIFY2(out.ok(), out.error().c_str());
        QCOMPARE(q(*out), q("1True[{\"type\": \"function\"}]None7<s>"));
        input.variables["messages"] = ordered_json::array();
        QVERIFY(!tpl->render(input).ok());
        input.variables = ordered_json::array();
        QVERIFY(!tpl->render(input).ok());
    }

    void copies_share_nothing_mutable() {
        auto tpl = ChatTemplate::parse(
            "{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}");
        QVERIFY(tpl.ok());
        ChatTemplate copy = *tpl;
        QCOMPARE(*tpl->render(nlohmann::json::object()), std::string("3"));
        QCOMPARE(*copy.render(nlohmann::json::object()), std::string("3"));
    }
};

QTEST_GUILESS_MAIN(TestChatTemplate)
#include "test_chat_template.moc"
