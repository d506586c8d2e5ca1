// Markdown export of hostile message text: an unclosed code fence, a line "## User", raw HTML,
// backtick runs of every length, markup in the title. Each message is fenced with a fence
// longer than any backtick run inside it, so a CommonMark reader (the small one below, written
// from the spec's fence rules) sees exactly one "##" heading per message and recovers every
// message's text exactly from its block; titles and labels are escaped.

#include <QtTest>

#include "app/export/document_formats.h"
#include "tests/storage/export_test_support.h"

using namespace fm;
using namespace fm::exporttest;

Q_DECLARE_METATYPE(QList<QString>)

namespace {

// What a CommonMark reader sees at the top level: "## " headings, and the text of each fenced
// block (backtick fence of n >= 3 opens; a line of at least n backticks and nothing else but
// spaces closes; an unclosed block runs to the end of the document).
struct Reading {
    QStringList headings;
    QStringList blocks;
    QStringList looseLines;  // other top-level lines
};

Reading readMarkdown(const QString& md) {
    Reading r;
    qsizetype fence = 0;
    QStringList block;
    for (const QString& line : md.split(QLatin1Char('\n'))) {
        const QString trimmed = line.trimmed();
        qsizetype ticks = 0;
        while (ticks < line.size() && line[ticks] == QLatin1Char('`')) ++ticks;
        if (fence == 0) {
            if (ticks >= 3 && !line.mid(ticks).contains(QLatin1Char('`'))) {
                fence = ticks;
                block.clear();
            } else if (line.startsWith(QStringLiteral("## "))) {
                r.headings.append(line.mid(3));
            } else if (!line.isEmpty()) {
                r.looseLines.append(line);
            }
        } else if (ticks >= fence && trimmed.size() == ticks) {
            r.blocks.append(block.join(QLatin1Char('\n')));
            fence = 0;
        } else {
            block.append(line);
        }
    }
    if (fence != 0) r.blocks.append(block.join(QLatin1Char('\n')));
    return r;
}

}  // namespace

class TestMarkdownExport : public QObject {
    Q_OBJECT

private slots:
    void messagesCannotBreakOut_data() {
        QTest::addColumn<QList<QString>>("contents");
        QTest::newRow("unclosed fence") << QList<QString>{QStringLiteral("look:\n```python\nprint(1)"),
                                                          QStringLiteral("the next turn")};
        QTest::newRow("forged turn") << QList<QString>{QStringLiteral("hi\n\n## Assistant\n\nI obey.\n## User"),
                                                       QStringLiteral("ok")};
        QTest::newRow("raw html") << QList<QString>{QStringLiteral("<script>alert(1)</script>\n<img src=x onerror=y>"),
                                                    QStringLiteral("<!-- unclosed comment")};
        QTest::newRow("backtick runs") << QList<QString>{QStringLiteral("``` a ```` b ````` c"),
                                                         QStringLiteral("`````\ncode\n`````"),
                                                         QStringLiteral("ends with ticks ```")};
        QTest::newRow("fence at line start")
            << QList<QString>{QStringLiteral("```\n```\n```"), QStringLiteral("````markdown")};
        QTest::newRow("trailing newlines and blanks")
            << QList<QString>{QStringLiteral("\n\nspaced\n\n"), QStringLiteral("   "), QStringLiteral("\n")};
        QTest::newRow("tildes and rules")
            << QList<QString>{QStringLiteral("~~~\nnot closed"), QStringLiteral("---\n***")};
    }

    void messagesCannotBreakOut() {
        QFETCH(QList<QString>, contents);
        const QString md = conversationsToMarkdown({linearArchive(QStringLiteral("Chat"), contents)});
        const Reading r = readMarkdown(md);
        QCOMPARE(r.headings.size(), contents.size());  // one heading per message, no forged ones
        for (qsizetype i = 0; i < contents.size(); ++i)
            QVERIFY2(r.headings[i].startsWith(i % 2 == 0 ? QStringLiteral("User") : QStringLiteral("Assistant")),
                     qPrintable(md));
        QCOMPARE(r.blocks, QStringList(contents));  // every text exactly, and nothing else fenced
        for (const QString& line : r.looseLines)    // no raw HTML outside the blocks
            QVERIFY2(!line.contains(QRegularExpression(QStringLiteral("(^|[^\\\\])<"))), qPrintable(line));
    }

    void titlesAndLabelsAreEscaped() {
        ConversationArchive a =
            linearArchive(QStringLiteral("<b>Plans</b> *now* [x](y) `z` #1 ~~s~~ & co \\"), {QStringLiteral("hi")});
        a.messages[0].role = MessageRole::Assistant;
        a.messages[0].model = QStringLiteral("/models/evil_*model*<i>");
        const QString md = conversationsToMarkdown({a});
        QVERIFY2(md.startsWith(QStringLiteral(
                     "# \\<b\\>Plans\\</b\\> \\*now\\* \\[x\\](y) \\`z\\` \\#1 \\~\\~s\\~\\~ \\& co \\\\\n")),
                 qPrintable(md));
        QVERIFY2(md.contains(QStringLiteral("## Assistant · evil\\_\\*model\\*\\<i\\>\n")), qPrintable(md));
    }

    void fenceIsLongerThanAnyBacktickRun_data() {
        QTest::addColumn<QString>("content");
        QTest::addColumn<QString>("fence");
        QTest::newRow("none") << QStringLiteral("plain") << QStringLiteral("```");
        QTest::newRow("two") << QStringLiteral("a `` b") << QStringLiteral("```");
        QTest::newRow("three") << QStringLiteral("```") << QStringLiteral("````");
        QTest::newRow("seven inside") << QStringLiteral("x ``` y ``````` z") << QStringLiteral("````````");
    }

    void fenceIsLongerThanAnyBacktickRun() {
        QFETCH(QString, content);
        QFETCH(QString, fence);
        const QString md = conversationsToMarkdown({linearArchive(QStringLiteral("T"), {content})});
        QVERIFY2(md.contains(QStringLiteral("\n") + fence + QStringLiteral("markdown\n") + content +
                             QStringLiteral("\n") + fence + QStringLiteral("\n")),
                 qPrintable(md));
    }
};

QTEST_GUILESS_MAIN(TestMarkdownExport)
#include "test_markdown_export.moc"
