// A chat template cannot make rendering hold more memory than its budget (64 MiB by default),
// however it amplifies strings (join, indent, repetition, concatenation, copies, iteration),
// and cannot overflow the stack with values nested in a loop or a namespace put inside itself.
// The budget is charged while strings are built, so each case below fails with the budget's
// error while the budget's peak stays under the limit. Without sanitizers the test runs under
// a 2 GiB address-space limit: a renderer that built the gigabytes first would die here.

#include <QtTest>

#include <string>

#include "inference/chat/chat_template.h"
#include "inference/jinja/jinja_eval.h"
#include "inference/jinja/jinja_parser.h"
#include "inference/jinja/jinja_value.h"
#include "tests/engine/engine_test_support.h"

using namespace fm::jinja;

Q_DECLARE_METATYPE(std::string)

namespace {

constexpr size_t kBudget = MemoryBudget::kDefaultLimit;

// Renders `source` with one variable `big`, a string of `big_bytes` bytes made before the
// rendering (like a long message), under a fresh default budget.
struct Outcome {
    std::string error;  // empty on success
    size_t peak = 0;
    size_t output = 0;
};

Outcome render_with_budget(const std::string& source, size_t big_bytes, size_t limit = kBudget) {
    Outcome o;
    MemoryBudget budget(limit);
    try {
        auto tpl = parse_template(source);
        Dict vars;
        vars.set("big", Value::string(std::string(big_bytes, 'x')));
        o.output = render_with_provenance(*tpl, vars, budget).text.size();
    } catch (const TemplateError& e) {
        o.error = e.message;
    }
    o.peak = budget.peak();
    return o;
}

}  // namespace

class TestTemplateLimits : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QVERIFY(fm::testing::limit_address_space_to_2_gib()); }

    void amplification_stops_at_the_budget_data() {
        QTest::addColumn<std::string>("source");
        QTest::addColumn<qulonglong>("big_bytes");
        QTest::addColumn<QString>("expected");
        const QString budget = "the template needs more than its memory budget of 64 MiB (67108864 bytes)";
        const QString work = "the template takes too long to render: it copies more than 1024 MiB of text in all";
        // 1 MB joined 1,000 times: 1 GB.
        QTest::newRow("join") << std::string("{{ ([big] * 1000) | join }}") << qulonglong{1 << 20} << budget;
        QTest::newRow("join with a big separator")
            << std::string("{{ range(1000) | join(big) }}") << qulonglong{1 << 20} << budget;
        // 100,000 lines indented by 10 kB each: 1 GB.
        QTest::newRow("indent") << std::string("{{ ('a\\n' * 100000) | indent(big) }}") << qulonglong{10000} << budget;
        // Two strings of 40 MB each held at once.
        QTest::newRow("repetition") << std::string(
                                           "{% set a = 'x' * 40000000 %}{% set b = 'y' * 40000000 %}{{ a|length }}")
                                    << qulonglong{0} << budget;
        QTest::newRow("repetition of a big string") << std::string("{{ big * 6 }}") << qulonglong{10000000} << budget;
        // Concatenation growing in a loop: 100,000 x 1 kB, copied at every step.
        QTest::newRow("concatenation in a loop")
            << std::string(
                   "{% set ns = namespace(s='') %}{% for i in range(100000) %}{% set ns.s = ns.s ~ big %}{% "
                   "endfor %}{{ ns.s | length }}")
            << qulonglong{1000} << work;
        QTest::newRow("plus in a loop")
            << std::string(
                   "{% set ns = namespace(s='') %}{% for i in range(100000) %}{% set ns.s = ns.s + big %}{% "
                   "endfor %}")
            << qulonglong{1000} << work;
        // Copies: a list holding the same 10 MB string eight times holds 80 MB.
        QTest::newRow("copies in a list")
            << std::string("{% set l = [big, big, big, big, big, big, big, big] %}") << qulonglong{10000000} << budget;
        // The output itself.
        QTest::newRow("output") << std::string("{% for i in range(100000) %}{{ big }}{% endfor %}") << qulonglong{1000}
                                << budget;
        // A 10 MB string iterated is ten million values.
        QTest::newRow("iteration") << std::string("{% for c in big %}{% endfor %}") << qulonglong{10000000} << budget;
        QTest::newRow("list of characters")
            << std::string("{{ big | list | length }}") << qulonglong{10000000} << budget;
        QTest::newRow("replace") << std::string("{{ big | replace('x', big) }}") << qulonglong{10000} << budget;
        QTest::newRow("tojson of copies")
            << std::string("{{ ([big] * 10000) | tojson }}") << qulonglong{100000} << budget;
        QTest::newRow("printing copies") << std::string("{{ [big] * 10000 }}") << qulonglong{100000} << budget;
        QTest::newRow("percent format") << std::string(
                                               "{{ '%s%s%s%s%s%s%s%s' % (big, big, big, big, big, big, big, big) }}")
                                        << qulonglong{10000000} << budget;
        QTest::newRow("set block") << std::string(
                                          "{% set t %}{% for i in range(100000) %}{{ big }}{% endfor %}{% endset %}")
                                   << qulonglong{1000} << budget;

        // Nesting: refused when made, not when printed or destroyed.
        QTest::newRow("lists nested in a loop")
            << std::string(
                   "{% set ns = namespace(x=[]) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor "
                   "%}{{ ns.x }}")
            << qulonglong{0} << QString("a value is nested too deeply");
        QTest::newRow("namespace inside itself")
            << std::string("{% set ns = namespace(a=1) %}{% set ns.self = [ns] %}{{ ns }}") << qulonglong{0}
            << QString("cannot store namespace 'ns' inside itself");
        // Shared values: small, but with 2^100 paths through them.
        const QString walk = "the template walks values too large";
        QTest::newRow("doubled list printed")
            << std::string(
                   "{% set ns = namespace(t=[1]) %}{% for i in range(100) %}{% set ns.t = [ns.t, ns.t] %}{% endfor "
                   "%}{{ ns.t | length }}{{ ns.t }}")
            << qulonglong{0} << walk;
        QTest::newRow("doubled lists compared")
            << std::string(
                   "{% set ns = namespace(a=[1], b=[1]) %}{% for i in range(100) %}{% set ns.a = [ns.a, ns.a] %}{% "
                   "set ns.b = [ns.b, ns.b] %}{% endfor %}{{ ns.a == ns.b }}")
            << qulonglong{0} << walk;
        QTest::newRow("doubled tuple as a key")
            << std::string(
                   "{% set ns = namespace(t=(1,)) %}{% for i in range(100) %}{% set ns.t = (ns.t, ns.t) %}{% endfor "
                   "%}{{ {ns.t: 1} | length }}")
            << qulonglong{0} << walk;
        QTest::newRow("doubled list searched for taint")
            << std::string(
                   "{% set ns = namespace(t=[1]) %}{% for i in range(100) %}{% set ns.t = [ns.t, ns.t] %}{% endfor "
                   "%}{{ ns.t | first | length }}")
            << qulonglong{0} << walk;
        QTest::newRow("namespace inside another")
            << std::string("{% set a = namespace(x=1) %}{% set b = namespace(y=1) %}{% set b.y = [a] %}{{ b }}")
            << qulonglong{0} << QString("a value is nested too deeply");
    }

    void amplification_stops_at_the_budget() {
        QFETCH(std::string, source);
        QFETCH(qulonglong, big_bytes);
        QFETCH(QString, expected);
        const Outcome o = render_with_budget(source, big_bytes);
        QVERIFY2(QString::fromStdString(o.error).contains(expected), o.error.c_str());
        QVERIFY2(o.peak <= kBudget, std::to_string(o.peak).c_str());
    }

    // Real renderings fit: a long conversation through ChatML, and a string just under the
    // budget, counted exactly (its bytes and one value).
    void ordinary_renderings_fit() {
        const Outcome chatml = render_with_budget(
            "{% for i in range(1000) %}{{ '<|im_start|>user\\n' + big + '<|im_end|>\\n' }}{% endfor %}", 10000);
        QCOMPARE(QString::fromStdString(chatml.error), QString());
        QCOMPARE(chatml.output, size_t{1000} * (10000 + std::string("<|im_start|>user\n<|im_end|>\n").size()));
        QVERIFY(chatml.peak < kBudget);
        QVERIFY(chatml.peak >= chatml.output);  // the output is held

        const Outcome small = render_with_budget("{{ big | length }}", 1000, 16384);
        QCOMPARE(QString::fromStdString(small.error), QString());
        const Outcome over = render_with_budget("{% set c = big ~ big %}", 1000, 1500);
        QVERIFY2(QString::fromStdString(over.error).contains("memory budget of 0 MiB (1500 bytes)"),
                 over.error.c_str());
    }

    // ChatTemplate applies the default budget and reports the error with the template's
    // location.
    void chat_template_uses_the_budget() {
        auto tpl = fm::ChatTemplate::parse("{{ (['x' * 1048576] * 100) | join }}");
        QVERIFY(tpl.ok());
        auto out = tpl->render(nlohmann::json::object());
        QVERIFY(!out.ok());
        QVERIFY2(QString::fromStdString(out.error()).contains("chat template line 1, column"), out.error().c_str());
        QVERIFY2(QString::fromStdString(out.error()).contains("memory budget of 64 MiB"), out.error().c_str());
    }
};

QTEST_GUILESS_MAIN(TestTemplateLimits)
#include "test_template_limits.moc"
