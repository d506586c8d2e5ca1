// The human-readable exports: HTML that shows hostile text as text, PDF whose text can be
// extracted again, Markdown and plain text; all of them show only the branch on screen.

#include "app/export/document_formats.h"
#include "app/export/exporter.h"
#include "tests/storage/export_test_support.h"
#include "tests/storage/storage_test_support.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTextDocument>
#include <QtTest>

using namespace fm;
using namespace fm::exporttest;

namespace {

const QString kScript = QStringLiteral("<script>alert(1)</script>");
const QString kImage = QStringLiteral("<img src=x onerror=alert(1)>");
const QString kScriptEscaped = QStringLiteral("&lt;script&gt;alert(1)&lt;/script&gt;");
const QString kImageEscaped = QStringLiteral("&lt;img src=x onerror=alert(1)&gt;");

QString readText(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
}

// pdftotext's text of a PDF, or a null string when the tool is missing.
QString pdfText(const QString& pdf) {
    const QString tool = QStandardPaths::findExecutable(QStringLiteral("pdftotext"));
    if (tool.isEmpty()) return {};
    QProcess p;
    p.start(tool, {QStringLiteral("-enc"), QStringLiteral("UTF-8"), pdf, QStringLiteral("-")});
    if (!p.waitForFinished(60'000) || p.exitCode() != 0)
        return QStringLiteral("<pdftotext failed: %1>").arg(QString::fromUtf8(p.readAllStandardError()));
    // Lines are wrapped and may be joined with hyphens or spaces: compare word sequences.
    return QString::fromUtf8(p.readAllStandardOutput()).simplified();
}

// One conversation in memory: a question and `answer`.
ConversationArchive archiveWith(const QString& answer) {
    return linearArchive(QStringLiteral("Rendering"), {QStringLiteral("Show me"), answer});
}

// What a reader of the page sees: the text of <main> without tags, entities decoded. Every
// '<' of the content is escaped, so removing tags removes only the page's own markup.
QString pageText(const QString& html) {
    static const QRegularExpression kTag(QStringLiteral("<[^>]*>"));
    QString text = html.mid(html.indexOf(QStringLiteral("<main>")));
    text.replace(kTag, QStringLiteral(" "));
    text.replace(QStringLiteral("&lt;"), QStringLiteral("<")).replace(QStringLiteral("&gt;"), QStringLiteral(">"));
    text.replace(QStringLiteral("&quot;"), QStringLiteral("\"")).replace(QStringLiteral("&#39;"), QStringLiteral("'"));
    return text.replace(QStringLiteral("&amp;"), QStringLiteral("&")).simplified();
}

// Word -> how often it occurs.
QHash<QString, int> wordCounts(const QString& text) {
    static const QRegularExpression kWord(QStringLiteral("\\w+"), QRegularExpression::UseUnicodePropertiesOption);
    QHash<QString, int> counts;
    for (auto it = kWord.globalMatch(text); it.hasNext();) ++counts[it.next().captured()];
    return counts;
}

// The words of `source` missing from (or fewer in) `shown`. List markers ("1.", "-", "- [x]")
// are syntax: the page numbers its items and draws its check boxes itself.
QStringList missingWords(const QString& source, const QString& shown) {
    static const QRegularExpression kMarker(QStringLiteral("^\\s*(\\d+[.)]|[-*+])\\s(\\[[ xX]\\]\\s)?"),
                                            QRegularExpression::MultilineOption);
    const QHash<QString, int> have = wordCounts(shown);
    const QHash<QString, int> want = wordCounts(QString(source).remove(kMarker));
    QStringList missing;
    for (auto it = want.begin(); it != want.end(); ++it)
        if (have.value(it.key()) < it.value()) missing << it.key();
    return missing;
}

}  // namespace

class TestExportDocuments : public QObject {
    Q_OBJECT

private:
    fm::testing::ScratchFolder scratch_;
    QString path(const QString& name) const { return scratch_.path(name); }

private slots:
    void init() { QVERIFY(scratch_.reset()); }

    void htmlShowsMarkupAsText_data() {
        QTest::addColumn<QString>("where");
        for (const char* where : {"user message", "assistant message", "code block", "inline code", "title",
                                  "system prompt", "model", "unclosed code block"})
            QTest::newRow(where) << QString::fromLatin1(where);
    }
    void htmlShowsMarkupAsText() {
        QFETCH(QString, where);
        const QString payload = kScript + QStringLiteral(" and ") + kImage + QStringLiteral(" & \"quotes\" 'too'");
        TestDb db;
        QVERIFY(db.open(path("db.sqlite")));
        ConversationOptions options;
        if (where == QLatin1String("system prompt")) options.systemPrompt = payload;
        Result<Conversation> c = db.store->createConversation(
            where == QLatin1String("title") ? payload : QStringLiteral("Hostile"), options);
        QVERIFY(c);
        QString user = QStringLiteral("Hello");
        QString assistant = QStringLiteral("Hi");
        QString model;
        if (where == QLatin1String("user message")) user = payload;
        if (where == QLatin1String("assistant message")) assistant = payload;
        if (where == QLatin1String("code block"))
            assistant = QStringLiteral("Here:\n```html\n") + payload + QStringLiteral("\n```\nDone.");
        if (where == QLatin1String("inline code"))
            assistant = QStringLiteral("Use `") + payload + QStringLiteral("` here");
        if (where == QLatin1String("unclosed code block")) assistant = QStringLiteral("```\n") + payload;
        if (where == QLatin1String("model")) model = payload;
        const qint64 q = ask(*db.store, c->id, user);
        QVERIFY(reply(*db.store, c->id, q, assistant, MessageStatus::Complete, {}, model) > 0);

        QVERIFY(exportConversations(db.db, c->id, ExportFormat::Html, path("page.html")));
        const QString html = readText(path("page.html"));
        QVERIFY(html.startsWith(QStringLiteral("<!DOCTYPE html>")));
        // Our page has no script or image of its own, so any such tag came from the content.
        QVERIFY2(!html.contains(QStringLiteral("<script"), Qt::CaseInsensitive), qPrintable(html));
        QVERIFY2(!html.contains(QStringLiteral("<img"), Qt::CaseInsensitive), qPrintable(html));
        QVERIFY(!html.contains(QStringLiteral("onerror=alert(1)>")));
        if (where != QLatin1String("model")) {  // a model path shows only its last component
            QVERIFY2(html.contains(kScriptEscaped), qPrintable(html));
            QVERIFY2(html.contains(kImageEscaped), qPrintable(html));
            QVERIFY(html.contains(QStringLiteral("&amp; &quot;quotes&quot; &#39;too&#39;")));
        }
        if (where.contains(QLatin1String("code block"))) {
            static const QRegularExpression kCode(
                QStringLiteral("<pre><code( class=\"language-html\")?>&lt;script&gt;"));
            QVERIFY2(kCode.match(html).hasMatch(), qPrintable(html));
        }
        // Self-contained: styles inline, light and dark, nothing loaded from anywhere.
        QVERIFY(html.contains(QStringLiteral("<style>")));
        QVERIFY(html.contains(QStringLiteral("@media (prefers-color-scheme: dark)")));
        QVERIFY(html.contains(QStringLiteral("Content-Security-Policy")));
        QVERIFY(!html.contains(QStringLiteral("<link")));
        QVERIFY(!html.contains(QStringLiteral("src=\"")));
        QVERIFY(!html.contains(QStringLiteral("href=")));
    }

    void documentsShowTheVisibleBranch_data() {
        QTest::addColumn<QString>("format");
        for (const QString& f : exportFormatNames())
            if (f != QLatin1String("json")) QTest::newRow(qPrintable(f)) << f;
    }
    void documentsShowTheVisibleBranch() {
        QFETCH(QString, format);
        TestDb db;
        QVERIFY(db.open(path("db.sqlite")));
        const qint64 id = buildScenario(*db.store, QStringLiteral("branches"));
        QVERIFY(id > 0);
        const ExportFormat kind = *exportFormatFromText(format);
        const QString file = path(QStringLiteral("out.") + format);
        QVERIFY(exportConversations(db.db, id, kind, file));
        QString text = kind == ExportFormat::Pdf ? pdfText(file) : readText(file);
        if (text.isNull()) QSKIP("pdftotext (poppler-utils) is not installed");
        if (kind == ExportFormat::Html) text.replace(QStringLiteral("&#39;"), QStringLiteral("'"));
        // On screen: the question, the first answer, the follow-up on that branch.
        for (const char* shown : {"Write a haiku.", "First haiku", "Explain the first", "It is about spring."})
            QVERIFY2(text.contains(QString::fromLatin1(shown)), shown);
        // Other branches are in the JSON export only.
        for (const char* hidden : {"Second haiku", "Third haiku", "River haiku", "about rivers"})
            QVERIFY2(!text.contains(QString::fromLatin1(hidden)), hidden);
        QVERIFY2(text.contains(QStringLiteral("version 1 of 2")), qPrintable(text));
        QVERIFY(text.contains(QStringLiteral("Scenario: branches")));
    }

    void pdfContainsTheConversationText_data() {
        QTest::addColumn<QString>("phrase");
        QTest::newRow("plain") << QStringLiteral("The falcon flies over the desert at dawn.");
        QTest::newRow("accents") << QStringLiteral("Naïve café crème brûlée, señor.");
        QTest::newRow("greek and cyrillic") << QStringLiteral("Ελληνικά κείμενα και русский текст.");
        QTest::newRow("markup") << QStringLiteral("<script>alert(1)</script> stays text.");
        QTest::newRow("code") << QStringLiteral("```cpp\nint answer = 42;\n```");
    }
    void pdfContainsTheConversationText() {
        QFETCH(QString, phrase);
        if (QStandardPaths::findExecutable(QStringLiteral("pdftotext")).isEmpty())
            QSKIP("pdftotext (poppler-utils) is not installed");
        TestDb db;
        QVERIFY(db.open(path("db.sqlite")));
        Result<Conversation> c = db.store->createConversation(QStringLiteral("PDF check"));
        QVERIFY(c);
        const qint64 q = ask(*db.store, c->id, QStringLiteral("Say something"));
        QVERIFY(reply(*db.store, c->id, q, phrase) > 0);
        // A long second conversation: several pages.
        const qint64 other = buildScenario(*db.store, QStringLiteral("linear"));
        QString longText;
        for (int i = 0; i < 400; ++i) longText += QStringLiteral("Line %1 of a long answer.\n").arg(i);
        QVERIFY(reply(*db.store, other, 0, longText) > 0);

        QVERIFY(exportConversations(db.db, std::nullopt, ExportFormat::Pdf, path("all.pdf")));
        QFile pdf(path("all.pdf"));
        QVERIFY(pdf.open(QIODevice::ReadOnly));
        QVERIFY(pdf.read(5) == "%PDF-");
        const QString text = pdfText(path("all.pdf"));
        QString expected = phrase;
        expected.remove(QStringLiteral("```cpp")).remove(QStringLiteral("```"));
        QVERIFY2(text.contains(expected.simplified()), qPrintable(text.left(2000)));
        QVERIFY(text.contains(QStringLiteral("PDF check")));
        QVERIFY(text.contains(QStringLiteral("Line 399 of a long answer.")));
    }

    // HTML and PDF render Markdown as the window does (app/markdown_blocks, then Qt's importer):
    // every word of the source is shown, none of the syntax that was rendered is, raw HTML is
    // literal text, and the page gets the elements of the structure.
    void documentsRenderMarkdown_data() {
        QTest::addColumn<QString>("markdown");
        QTest::addColumn<QStringList>("syntax");    // must not be in the shown text
        QTest::addColumn<QStringList>("elements");  // must be in the page's HTML
        QTest::newRow("table") << QStringLiteral(
                                      "Scores:\n\n| Name | Score | Note |\n|:--|--:|:-:|\n| **Alice** | 10 | top |\n| "
                                      "Bob | 7 | `x` |\n\nEnd.")
                               << QStringList{"|", "---", "**", "`"}
                               << QStringList{"<table>", "<th>Name</th>", "<th class=\"right\">Score</th>",
                                              "<td><strong>Alice</strong></td>", "<td class=\"center\"><code>x</code>"};
        QTest::newRow("blockquote")
            << QStringLiteral("> Quoted wisdom here\n> on two lines\n>\n> > nested too\n\nAfter it.")
            << QStringList{">"}
            << QStringList{"<blockquote><p>Quoted wisdom here on two lines</p>\n<blockquote><p>nested too</p>",
                           "<p>After it.</p>"};
        QTest::newRow("raw html")
            << QStringLiteral(
                   "Line one<br>line two <img src=x onerror=alert(1)> and <span style=\"color:red\">red</span>\n"
                   "<div>unclosed <b>bold\n\n## Heading after html\n\nTail <!-- comment --> text &amp; more.")
            << QStringList{"## "}
            << QStringList{"&lt;br&gt;line two",
                           "&lt;img src=x onerror=alert(1)&gt;",
                           "&lt;span style=&quot;color:red&quot;&gt;red&lt;/span&gt;",
                           "&lt;div&gt;unclosed &lt;b&gt;bold",
                           "<h3>Heading after html</h3>",
                           "&lt;!-- comment --&gt;",
                           "&amp;amp;"};
        QTest::newRow("headings") << QStringLiteral(
                                         "# Title one\n\nSome text.\n\n### Third level\n\nSetext\n---\n\nMore.")
                                  << QStringList{"#", "---"}
                                  << QStringList{"<h2>Title one</h2>", "<h4>Third level</h4>", "<h3>Setext</h3>"};
        QTest::newRow("nested lists")
            << QStringLiteral("- fruit\n  - apple\n  - pear\n- vegetables\n  1. carrot\n  2. leek\n\n- [x] done task")
            << QStringList{"- ", "[x]"}
            << QStringList{"<ul>\n<li>fruit<ul>\n<li>apple</li>\n<li>pear</li>\n</ul>",
                           "<li>vegetables<ol>\n<li>carrot</li>\n<li>leek</li>\n</ol>"};
        QTest::newRow("code")
            << QStringLiteral(
                   "Run this:\n```python\nprint(\"hi\")  # a comment\n```\nand `inline_code` too\n\n    indented code")
            << QStringList{"```", "`"}
            << QStringList{
                   "<div class=\"lang\">python</div><pre><code class=\"language-python\">"
                   "print(&quot;hi&quot;)  # a comment</code></pre>",
                   "<code>inline_code</code>"};
        QTest::newRow("emphasis and links") << QStringLiteral(
                                                   "Some **bold**, *italic*, ~~gone~~ and [a "
                                                   "link](https://example.com/page) plus ![alt text](pic.png).")
                                            << QStringList{"**", "~~", "](", "!["}
                                            << QStringList{"<strong>bold</strong>", "<em>italic</em>", "<s>gone</s>",
                                                           "a link (https://example.com/page)"};
    }
    void documentsRenderMarkdown() {
        QFETCH(QString, markdown);
        QFETCH(QStringList, syntax);
        QFETCH(QStringList, elements);
        const QList<ConversationArchive> archive{archiveWith(markdown)};

        const QString html = conversationsToHtml(archive);
        const QString messages = html.mid(html.indexOf(QStringLiteral("<section")));
        for (const QString& element : elements)
            QVERIFY2(messages.contains(element), qPrintable(element + QStringLiteral("\n") + messages));
        // Nothing from the content became an element that loads or links anything.
        for (const char* tag : {"<img", "<span", "<div>", "<b>", "href=", "src=\"", "<!--"})
            QVERIFY2(!messages.contains(QLatin1String(tag)), tag);
        QVERIFY(html.contains(QStringLiteral("Content-Security-Policy")));

        // The page as read, the PDF's document before it is painted, and the PDF's own text.
        QTextDocument laidOut;
        laidOut.setHtml(conversationsToRichText(archive));
        QList<std::pair<QString, QString>> shown{{QStringLiteral("html"), pageText(html)},
                                                 {QStringLiteral("pdf document"), laidOut.toPlainText()}};
        QVERIFY(writeExport(archive, ExportFormat::Pdf, path(QStringLiteral("r.pdf"))));
        const QString pdf = pdfText(path(QStringLiteral("r.pdf")));
        if (!pdf.isNull()) shown.append({QStringLiteral("pdf text"), pdf});
        for (const auto& [where, text] : shown) {
            const QString body = text.mid(text.indexOf(QStringLiteral("Show me")));
            const QStringList missing = missingWords(markdown, body);
            QVERIFY2(missing.isEmpty(), qPrintable(where + QStringLiteral(": missing ") +
                                                   missing.join(QLatin1Char(' ')) + QStringLiteral("\n") + body));
            for (const QString& s : syntax)
                QVERIFY2(!body.contains(s),
                         qPrintable(where + QStringLiteral(": shows ") + s + QStringLiteral("\n") + body));
        }
        if (pdf.isNull()) QSKIP("pdftotext (poppler-utils) is not installed: the PDF's own text was not checked");
    }

    // Hostile shapes finish, in every rendered format, without losing their text: one long
    // line full of markup, a long table cell, deep quotes and lists, many tiny paragraphs.
    void pathologicalMarkdownFinishes_data() {
        QTest::addColumn<QString>("markdown");
        QString emphasis;
        for (int i = 0; i < 5000; ++i) emphasis += QStringLiteral("**b%1** `c` ").arg(i);
        QTest::newRow("long line of markup") << emphasis;
        QTest::newRow("long table cell") << QStringLiteral("| a | b |\n|---|---|\n| ") + QString(200000, u'y') +
                                                QStringLiteral(" | z |");
        QTest::newRow("deep quotes") << QString(500, u'>') + QStringLiteral(" deep");
        QString list;
        for (int i = 0; i < 200; ++i) list += QString(i * 2, u' ') + QStringLiteral("- level%1\n").arg(i);
        QTest::newRow("deep list") << list;
        QString paragraphs;
        for (int i = 0; i < 5000; ++i) paragraphs += QStringLiteral("p%1\n\n").arg(i);
        QTest::newRow("many paragraphs") << paragraphs;
        QTest::newRow("long code line") << QStringLiteral("```\n") + QString(300000, u'c') + QStringLiteral("\n```");
    }
    void pathologicalMarkdownFinishes() {
        QFETCH(QString, markdown);
        const QList<ConversationArchive> archive{archiveWith(markdown)};
        QElapsedTimer timer;
        timer.start();
        for (ExportFormat format : {ExportFormat::Html, ExportFormat::Pdf}) {
            const QString file = path(QStringLiteral("p.") + exportFormatName(format));
            QVERIFY(writeExport(archive, format, file));
            QVERIFY(QFileInfo(file).size() > 0);
        }
        const QString html = pageText(conversationsToHtml(archive));
        const QStringList missing = missingWords(markdown, html.mid(html.indexOf(QStringLiteral("Show me"))));
        QVERIFY2(missing.isEmpty(), qPrintable(missing.mid(0, 20).join(QLatin1Char(' '))));
        qInfo("%s: %lld ms", QTest::currentDataTag(), qint64(timer.elapsed()));
    }

    void markdownAndTextKeepTheMessageText() {
        TestDb db;
        QVERIFY(db.open(path("db.sqlite")));
        const qint64 id = buildScenario(*db.store, QStringLiteral("custom settings"));
        QVERIFY(id > 0);
        QVERIFY(exportConversations(db.db, id, ExportFormat::Markdown, path("c.md")));
        QVERIFY(exportConversations(db.db, id, ExportFormat::PlainText, path("c.txt")));
        const QString md = readText(path("c.md"));
        QVERIFY2(md.startsWith(QStringLiteral("# Scenario: custom settings\n")), qPrintable(md));
        QVERIFY(md.contains(QStringLiteral("```markdown\nAnswer in French.\nBe brief.\n\n  Indented line.\n```\n")));
        QVERIFY(md.contains(QStringLiteral("- Model: falcon-mamba-7b-instruct-4bit\n")));  // no folder path
        QVERIFY(!md.contains(QStringLiteral("/opt/models")));
        QVERIFY(md.contains(QStringLiteral("- Mode: completion\n")));
        QVERIFY(md.contains(QStringLiteral("temperature 0.35")));
        QVERIFY(md.contains(QStringLiteral("## Assistant · falcon\n\n```markdown\nBonjour !\n```\n")));
        const QString txt = readText(path("c.txt"));
        QVERIFY(txt.contains(QStringLiteral("[User]\nBonjour\n")));
        QVERIFY(txt.contains(QStringLiteral("[Assistant · falcon]\nBonjour !\n")));

        // Empty messages are marked, not left as blank space.
        TestDb empty;
        QVERIFY(empty.open(path("empty.sqlite")));
        const qint64 e = buildScenario(*empty.store, QStringLiteral("empty texts"));
        QVERIFY(exportConversations(empty.db, e, ExportFormat::Markdown, path("e.md")));
        const QString emd = readText(path("e.md"));
        QVERIFY2(emd.startsWith(QStringLiteral("# Untitled conversation\n")), qPrintable(emd));
        QVERIFY(emd.contains(QStringLiteral("## User\n\n*(empty)*\n")));
    }

    void codeBlocksAreSplitOut_data() {
        QTest::addColumn<QString>("markdown");
        QTest::addColumn<QStringList>("segments");  // "text:..." or "code:<lang>:..."
        QTest::newRow("prose only") << "Just text\nover lines" << QStringList{"text:Just text\nover lines"};
        QTest::newRow("fenced") << "Before\n```python\nx = 1\n```\nAfter"
                                << QStringList{"text:Before\n", "code:python:x = 1", "text:After"};
        QTest::newRow("tilde fence") << "~~~\na\n~~~" << QStringList{"code::a"};
        QTest::newRow("longer closing fence") << "````\n```\ninner\n```\n````" << QStringList{"code::```\ninner\n```"};
        QTest::newRow("unclosed") << "```js\nlet cut = " << QStringList{"code:js:let cut = "};
        QTest::newRow("indented fence") << "   ```\ncode\n   ```" << QStringList{"code::code"};
        QTest::newRow("empty block") << "```\n```" << QStringList{"code::"};
        QTest::newRow("not a fence") << "a ``` b" << QStringList{"text:a ``` b"};
    }
    void codeBlocksAreSplitOut() {
        QFETCH(QString, markdown);
        QFETCH(QStringList, segments);
        QStringList actual;
        for (const TextSegment& s : splitCodeBlocks(markdown))
            actual.append(s.code ? QStringLiteral("code:%1:%2").arg(s.language, s.text)
                                 : QStringLiteral("text:") + s.text);
        QCOMPARE(actual, segments);
    }

    void fileNamesAndFormats() {
        QCOMPARE(suggestedExportFileName(QStringLiteral("Plans: Q3/Q4 <draft>?"), ExportFormat::Markdown),
                 QStringLiteral("Plans Q3Q4 draft.md"));
        QCOMPARE(suggestedExportFileName(QStringLiteral("..hidden"), ExportFormat::Pdf), QStringLiteral("hidden.pdf"));
        QCOMPARE(suggestedExportFileName(QString(), ExportFormat::Json), QStringLiteral("conversation.json"));
        QCOMPARE(exportFormatFromText(QStringLiteral("Markdown")), std::optional(ExportFormat::Markdown));
        QCOMPARE(exportFormatFromText(QStringLiteral("HTM")), std::optional(ExportFormat::Html));
        QCOMPARE(exportFormatFromFileName(QStringLiteral("/x/chat.TXT")), std::optional(ExportFormat::PlainText));
        QVERIFY(!exportFormatFromText(QStringLiteral("docx")));
        QVERIFY(!exportFormatFromFileName(QStringLiteral("noext")));
        QCOMPARE(escapeHtml(QStringLiteral("<a href=\"x\">'&'</a>")),
                 QStringLiteral("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"));
    }
};

QTEST_MAIN(TestExportDocuments)
#include "test_export_documents.moc"
