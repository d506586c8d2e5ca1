// The human-readable exports: HTML that shows hostile text as text, PDF whose text can be
// extracted again, Markdown and plain text; all of them show only the branch on screen.

#include "app/export/document_formats.h"
#include "app/export/exporter.h"
#include "tests/storage/export_test_support.h"

#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
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

}  // namespace

class TestExportDocuments : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> dir_;
    QString path(const QString& name) const { return dir_->filePath(name); }

private slots:
    void init() {
        dir_ = std::make_unique<QTemporaryDir>();
        QVERIFY(dir_->isValid());
    }

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
