// What the chat view shows for a reply: every word of the Markdown source is in the plain
// text of the rendered blocks (prose and quotes through Qt's own Markdown importer, as
// TextEdit.MarkdownText does; table cells likewise; code verbatim), raw HTML included, and
// raw HTML is shown as written rather than interpreted.

#include <QGuiApplication>
#include <QRegularExpression>
#include <QTest>
#include <QTextBlock>
#include <QTextDocument>
#include <QTextList>

#include "app/markdown/markdown_blocks.h"

using namespace fm::app;

namespace {

// The document's text with each list item's marker ("1.", "a.") as it is drawn.
QString renderedMarkdown(const QString& markdown) {
    QTextDocument document;
    document.setMarkdown(markdown);
    QStringList lines;
    for (QTextBlock block = document.begin(); block.isValid(); block = block.next()) {
        const QString marker = block.textList() ? block.textList()->itemText(block) : QString();
        lines << (marker.isEmpty() ? block.text() : marker + QLatin1Char(' ') + block.text());
    }
    return lines.join(QLatin1Char('\n'));
}

// The plain text a user sees for `source`, block after block.
QString shownText(const QString& source) {
    QStringList shown;
    for (const MarkdownBlock& block : splitMarkdownBlocks(source)) {
        switch (block.kind) {
        case MarkdownBlock::Kind::Code: shown << block.language << block.text; break;  // language in the header
        case MarkdownBlock::Kind::Table:
            for (const QStringList& row : block.rows)
                for (const QString& cell : row) shown << renderedMarkdown(cell);
            break;
        default: shown << renderedMarkdown(block.text); break;
        }
    }
    return shown.join(QLatin1Char('\n'));
}

// Word -> how often it occurs.
QHash<QString, int> wordCounts(const QString& text) {
    static const QRegularExpression word(QStringLiteral("\\w+"), QRegularExpression::UseUnicodePropertiesOption);
    QHash<QString, int> counts;
    for (auto it = word.globalMatch(text); it.hasNext();) ++counts[it.next().captured()];
    return counts;
}

}  // namespace

class TestMarkdownBlocks : public QObject {
    Q_OBJECT

private slots:
    void everyWordIsShown_data() {
        QTest::addColumn<QString>("source");
        QTest::addColumn<QStringList>("literally");  // substrings shown exactly as in the source
        QTest::newRow("table")
            << "Intro\n\n| Name | Score |\n|:---|---:|\n| alpha | 10 |\n| beta **bold** | 200 |\n\nafter table"
            << QStringList{};
        QTest::newRow("table with missing and extra cells")
            << "| a | b |\n|---|---|\n| only |\n| one | two | three |" << QStringList{};
        QTest::newRow("blockquote") << "Before\n\n> quoted words here\n> and more\n\nafter quote" << QStringList{};
        QTest::newRow("nested quote with code")
            << "> outer\n> > inner deep\n> ```\n> <tag> inside\n> ```" << QStringList{"<tag> inside"};
        QTest::newRow("br keeps what follows")
            << "first line<br>second line\n\nnext paragraph\n\n# Heading after\n\n---\n\ntext after rule"
            << QStringList{"first line<br>second line"};
        QTest::newRow("img is text") << "see <img src=\"cat.png\" alt=\"a cat\"> here"
                                     << QStringList{"<img src=\"cat.png\" alt=\"a cat\">"};
        QTest::newRow("unclosed tags") << "<span style=\"color:red\">red text\n\n<div>\n\nstill here\n\n<b>bold forever"
                                       << QStringList{"<span style=\"color:red\">red text", "<div>", "<b>bold forever"};
        QTest::newRow("html block then heading") << "<table><tr><td>cell</td></tr></table>\n\n## Heading words\n\nbody"
                                                 << QStringList{"<table><tr><td>cell</td></tr></table>"};
        QTest::newRow("comment") << "visible <!-- hidden comment --> end" << QStringList{"<!-- hidden comment -->"};
        QTest::newRow("entities stay literal")
            << "AT&amp;T and &lt;x&gt; &copy;" << QStringList{"AT&amp;T", "&lt;x&gt;"};
        QTest::newRow("nested lists") << "- one\n  - two\n    - three\n- four\n\n1. first\n   1. inner\n2. second"
                                      << QStringList{};
        QTest::newRow("code block keeps html")
            << "```html\n<p>para</p>\n<br>\n```\nafter code" << QStringList{"<p>para</p>\n<br>"};
        QTest::newRow("code span keeps html")
            << "use `<br>` and ``a `<b>` b`` here" << QStringList{"<br>", "a `<b>` b"};
        QTest::newRow("unclosed code span") << "a ` lone backtick <i>x" << QStringList{"<i>x"};
        QTest::newRow("open fence while streaming") << "Here:\n```python\nprint('<x>')" << QStringList{"print('<x>')"};
        QTest::newRow("escaped characters") << "a \\<b\\> and \\* star" << QStringList{};
    }
    void everyWordIsShown() {
        QFETCH(QString, source);
        QFETCH(QStringList, literally);
        const QString shown = shownText(source);
        const QHash<QString, int> expected = wordCounts(source);
        const QHash<QString, int> got = wordCounts(shown);
        for (auto it = expected.cbegin(); it != expected.cend(); ++it)
            QVERIFY2(got.value(it.key()) >= it.value(), qPrintable(QStringLiteral("\"%1\" shown %2 of %3 times in:\n%4")
                                                                       .arg(it.key())
                                                                       .arg(got.value(it.key()))
                                                                       .arg(it.value())
                                                                       .arg(shown)));
        for (const QString& text : literally)
            QVERIFY2(shown.contains(text),
                     qPrintable(QStringLiteral("\"%1\" not shown as written in:\n%2").arg(text, shown)));
    }

    void blockKinds_data() {
        QTest::addColumn<QString>("source");
        QTest::addColumn<QStringList>("kinds");
        QTest::newRow("prose, table, prose")
            << "a\n\n| x | y |\n|---|--:|\n| 1 | 2 |\n\nb" << QStringList{"prose", "table", "prose"};
        QTest::newRow("pipe without delimiter row is prose") << "a | b\nc | d" << QStringList{"prose"};
        QTest::newRow("quote between prose") << "a\n> q\nb" << QStringList{"prose", "quote", "prose"};
        QTest::newRow("code") << "```\nx\n```" << QStringList{"code"};
    }
    void blockKinds() {
        QFETCH(QString, source);
        QFETCH(QStringList, kinds);
        QStringList got;
        for (const MarkdownBlock& block : splitMarkdownBlocks(source)) got << kindName(block.kind);
        QCOMPARE(got, kinds);
    }

    void tableColumnsAndAlignment() {
        const auto blocks =
            splitMarkdownBlocks(QStringLiteral("| L | C | R |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n| a \\| b |"));
        QCOMPARE(blocks.size(), 1);
        QCOMPARE(blocks[0].alignments, (QStringList{"left", "center", "right"}));
        QCOMPARE(blocks[0].rows.size(), 3);
        QCOMPARE(blocks[0].rows[0], (QStringList{"L", "C", "R"}));
        QCOMPARE(blocks[0].rows[2], (QStringList{"a | b", "", ""}));
    }

    void escaping_data() {
        QTest::addColumn<QString>("source");
        QTest::addColumn<QString>("escaped");
        QTest::newRow("tag") << "<b>x</b>"
                             << "\\<b>x\\</b>";
        QTest::newRow("entity") << "&amp;"
                                << "\\&amp;";
        QTest::newRow("code span untouched") << "`<b>`"
                                             << "`<b>`";
        QTest::newRow("existing escape kept") << "\\<b>"
                                              << "\\<b>";
        QTest::newRow("double backtick span") << "``a`<b>`` <i>"
                                              << "``a`<b>`` \\<i>";
    }
    void escaping() {
        QFETCH(QString, source);
        QFETCH(QString, escaped);
        QCOMPARE(escapeRawHtml(source), escaped);
    }
};

QTEST_MAIN(TestMarkdownBlocks)
#include "test_markdown_blocks.moc"
