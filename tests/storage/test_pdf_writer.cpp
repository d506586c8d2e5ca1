// The PDF writer (app/export/pdf/): the rich text read back as written, lines broken where Qt's
// own line breaker breaks them, text that copies out of the PDF as it went in (poppler's
// pdftotext as the independent reader), every line inside the page body, headings kept with
// what follows, and a file whose cross-reference table points at every object.

#include "app/export/document_formats.h"
#include "app/export/exporter.h"
#include "app/export/pdf/pdf_file.h"
#include "app/export/pdf/rich_text.h"
#include "app/export/pdf/text_layout.h"
#include "app/export/pdf_export.h"
#include "tests/storage/export_test_support.h"

#include <QBuffer>
#include <QDir>
#include <QFontMetricsF>
#include <QImage>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTextLayout>
#include <QtTest>

using namespace fm;
using namespace fm::pdf;
using namespace fm::exporttest;

namespace {

// A4 with 2 cm margins, in points: where text may go.
constexpr double kBodyLeft = 56.69, kBodyRight = 595.28 - 56.69, kBodyTop = 56.69, kBodyBottom = 841.89 - 56.69;

// One block as text: kind, depths, marker, then each span as [style:text].
QString describe(const RichBlock& b) {
    static const char* const kKinds[] = {"title", "meta", "label", "heading", "paragraph",
                                         "lang",  "code", "item",  "rule",    "table"};
    QString out = QString::fromLatin1(kKinds[int(b.kind)]);
    if (b.kind == RichBlock::Kind::Heading) out += QString::number(b.headingLevel);
    if (!b.labelRole.isEmpty()) out += QLatin1Char('.') + b.labelRole;
    if (b.quoteDepth > 0) out += QStringLiteral(" q%1").arg(b.quoteDepth);
    if (b.listDepth > 0) out += QStringLiteral(" l%1").arg(b.listDepth);
    if (!b.marker.isEmpty()) out += QLatin1Char(' ') + b.marker;
    const auto spans = [](const QList<Span>& list) {
        QString s;
        for (const Span& span : list) {
            QString style;
            if (span.style & kBold) style += QLatin1Char('b');
            if (span.style & kItalic) style += QLatin1Char('i');
            if (span.style & kMono) style += QLatin1Char('m');
            if (span.style & kStrike) style += QLatin1Char('s');
            s += QStringLiteral("[%1:%2]").arg(style, QString(span.text).replace(QLatin1Char('\n'), QLatin1Char('|')));
        }
        return s;
    };
    out += QLatin1Char(' ') + spans(b.spans);
    for (const auto& row : b.rows) {
        out += QStringLiteral(" /");
        for (const TableCell& cell : row) {
            out += cell.header ? QStringLiteral(" th") : QStringLiteral(" td");
            if (cell.alignment == Qt::AlignRight) out += QStringLiteral(">");
            if (cell.alignment == Qt::AlignHCenter) out += QStringLiteral("=");
            out += spans(cell.spans);
        }
    }
    return out;
}

// A poppler tool's output, or a null string when the tool is missing.
QString runTool(const QString& tool, const QStringList& args) {
    const QString path = QStandardPaths::findExecutable(tool);
    if (path.isEmpty()) return {};
    QProcess p;
    p.start(path, args);
    p.waitForFinished(120000);
    const QString errors = QString::fromUtf8(p.readAllStandardError());
    if (p.exitCode() != 0 || errors.contains(QStringLiteral("Error")))
        return QStringLiteral("<%1 failed: %2>").arg(tool, errors);
    return QString::fromUtf8(p.readAllStandardOutput());
}

struct Word {
    int page;
    double xMin, yMin, xMax, yMax;
    QString text;
};

// Every word pdftotext finds, with its box (pdftotext -bbox).
QList<Word> wordsOf(const QString& pdf, bool* available) {
    const QString html = runTool(QStringLiteral("pdftotext"), {QStringLiteral("-bbox"), pdf, QStringLiteral("-")});
    *available = !html.isNull();
    QList<Word> words;
    int page = 0;
    static const QRegularExpression word(QStringLiteral(
        "<word xMin=\"([0-9.]+)\" yMin=\"([0-9.]+)\" xMax=\"([0-9.]+)\" yMax=\"([0-9.]+)\">([^<]*)</word>"));
    for (const QString& line : html.split(QLatin1Char('\n'))) {
        if (line.contains(QStringLiteral("<page "))) ++page;
        const QRegularExpressionMatch m = word.match(line);
        if (m.hasMatch()) {
            words.append({page, m.captured(1).toDouble(), m.captured(2).toDouble(), m.captured(3).toDouble(),
                          m.captured(4).toDouble(), m.captured(5)});
        }
    }
    return words;
}

// A device that takes `room` bytes and refuses the rest, as a full disk does.
class FullDevice : public QIODevice {
public:
    explicit FullDevice(qint64 room) : room_(room) { open(QIODevice::WriteOnly); }
    qint64 written = 0;

protected:
    qint64 readData(char*, qint64) override { return -1; }
    qint64 writeData(const char*, qint64 size) override {
        if (written + size > room_) return -1;
        written += size;
        return size;
    }

private:
    qint64 room_;
};

}  // namespace

class TestPdfWriter : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;

    QString exported(const QStringList& contents, const QString& name) {
        const QString file = dir_.filePath(name);
        Result<ExportSummary> written =
            writeExport({linearArchive(QStringLiteral("Writer"), contents)}, ExportFormat::Pdf, file);
        if (!written) qWarning() << errorText(written);
        return written ? file : QString();
    }

private slots:
    // The subset of HTML that document_formats writes comes back as blocks and styled spans.
    void readsTheRichTextBack_data() {
        QTest::addColumn<QString>("html");
        QTest::addColumn<QStringList>("blocks");
        QTest::newRow("header") << QStringLiteral(
                                       "<h1>A &amp; B</h1><p class=\"meta\">Created x<br>Model: m</p>"
                                       "<h6 class=\"label user\">User</h6><p>Hi  there\n you</p>")
                                << QStringList{"title [:A & B]", "meta [:Created x|Model: m]", "label.user [:User]",
                                               "paragraph [:Hi there you]"};
        QTest::newRow("inline styles")
            << QStringLiteral("<p>a <strong>b <em>c</em></strong> <code>d&lt;e</code> <s>f</s>&#39;&quot;</p>")
            << QStringList{"paragraph [:a ][b:b ][bi:c][: ][m:d<e][: ][s:f][:'\"]"};
        QTest::newRow("code keeps spaces")
            << QStringLiteral("<p class=\"lang\">cpp</p><pre class=\"code\">int  a;\n  b();</pre>")
            << QStringList{"lang [:cpp]", "code [:int  a;|  b();]"};
        QTest::newRow("lists") << QStringLiteral(
                                      "<ul>\n<li>one<ul>\n<li>two</li>\n</ul></li>\n<li>three</li>\n</ul>\n"
                                      "<ol>\n<li>first</li>\n<li>second</li>\n</ol>\n")
                               << QStringList{"item l1 \u2022 [:one]", "item l2 \u25E6 [:two]",
                                              "item l1 \u2022 [:three]", "item l1 1. [:first]", "item l1 2. [:second]"};
        QTest::newRow("quotes and rules")
            << QStringLiteral("<blockquote><p>a</p>\n<blockquote><p>b</p></blockquote>\n</blockquote>\n<hr>\n<p>c</p>")
            << QStringList{"paragraph q1 [:a]", "paragraph q2 [:b]", "rule ", "paragraph [:c]"};
        QTest::newRow("table") << QStringLiteral(
                                      "<table border=\"1\"><tr><th>N</th><th align=\"right\">S</th></tr>\n"
                                      "<tr><td><strong>A</strong></td><td align=\"center\">1<br>2</td></tr></table>")
                               << QStringList{"table  / th[:N] th>[:S] / td[b:A] td=[:1|2]"};
        QTest::newRow("headings") << QStringLiteral("<h3>Three</h3><h6>Six</h6>")
                                  << QStringList{"heading3 [:Three]", "heading6 [:Six]"};
        QTest::newRow("unknown tags keep their text")
            << QStringLiteral("<p>x <span>y</span> <!-- z --> &unknown; &lt</p>")
            << QStringList{"paragraph [:x y &unknown; &lt]"};
        QTest::newRow("unclosed tag is text") << QStringLiteral("<p>a < b") << QStringList{"paragraph [:a < b]"};
    }
    void readsTheRichTextBack() {
        QFETCH(QString, html);
        QFETCH(QStringList, blocks);
        QStringList got;
        for (const RichBlock& b : parseRichText(html)) got.append(describe(b));
        QCOMPARE(got, blocks);
    }

    // Plain prose breaks exactly where Qt's own line breaker (UAX #14, design metrics, no
    // hinting) breaks it, at the same widths: the independent reference for the fast path.
    void breaksLinesAsQtDoes_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<double>("width");
        QTest::addColumn<unsigned>("style");
        const QString prose = QStringLiteral(
            "The falcon flies over the desert at dawn, and the state of the model stays the same size "
            "however long the conversation grows; nothing is cached per token, so memory stays flat.");
        for (double width : {80.0, 150.0, 233.3, 481.9}) {
            QTest::addRow("sans %g", width) << prose << width << unsigned(FontSet::kSans);
            QTest::addRow("bold %g", width) << prose << width << unsigned(FontSet::kBold);
            QTest::addRow("mono %g", width) << prose << width << unsigned(FontSet::kMono);
        }
        QTest::newRow("greek and cyrillic") << QStringLiteral(
                                                   "Ελληνικά κείμενα και русский текст, with naïve café crème "
                                                   "and αβγδεζηθ words repeated αβγδεζηθ again.")
                                            << 120.0 << unsigned(FontSet::kSans);
        QTest::newRow("hyphens") << QStringLiteral(
                                        "A state-of-the-art, well-known re-entrant x-1 -5 and -x or a--b; "
                                        "long-long-long-long-long-long-long-long-long-long words")
                                 << 60.0 << unsigned(FontSet::kSans);
        QTest::newRow("many spaces") << QStringLiteral("a    b     c      d       e        f") << 30.0
                                     << unsigned(FontSet::kSans);
    }
    void breaksLinesAsQtDoes() {
        QFETCH(QString, text);
        QFETCH(double, width);
        QFETCH(unsigned, style);
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::WriteOnly));
        PdfFile file(sink);
        FontSet fonts(file);
        TextLayouter layouter(fonts);
        const std::vector<Line> ours = layouter.layOut({{text, TextStyle{style, 10}}}, float(width));

        // Qt at 16 px per point, as the shaped path lays out, without kerning or ligatures (the
        // fast path sets each glyph at its advance, as the PDF's widths give it).
        QFont font = fonts.qfont(style, 160);
        font.setStyleStrategy(QFont::PreferNoShaping);
        QTextLayout qt(text, font);
        QTextOption option;
        option.setWrapMode(QTextOption::WrapAtWordBoundaryOrAnywhere);
        option.setUseDesignMetrics(true);
        qt.setTextOption(option);
        qt.beginLayout();
        for (QTextLine l = qt.createLine(); l.isValid(); l = qt.createLine()) l.setLineWidth(width * 16);
        qt.endLayout();

        QCOMPARE(int(ours.size()), qt.lineCount());
        for (int i = 0; i < qt.lineCount(); ++i) {
            size_t glyphs = 0;
            for (const GlyphRun& run : ours[size_t(i)].runs) glyphs += run.codes.size();
            QCOMPARE(qsizetype(glyphs), qsizetype(qt.lineAt(i).textLength()));
            // The advance of the line's text up to its last visible glyph (trailing spaces hang).
            const QString lineText = text.mid(qt.lineAt(i).textStart(), qt.lineAt(i).textLength());
            qsizetype visible = lineText.size();
            while (visible > 0 && lineText.at(visible - 1) == QLatin1Char(' ')) --visible;
            const double qtWidth = qt.lineAt(i).cursorToX(qt.lineAt(i).textStart() + int(visible)) / 16;
            QVERIFY2(std::abs(ours[size_t(i)].width - qtWidth) < 0.02,
                     qPrintable(QStringLiteral("line %1 \"%4\": %2 vs %3")
                                    .arg(i)
                                    .arg(ours[size_t(i)].width)
                                    .arg(qtWidth)
                                    .arg(lineText)));
            QVERIFY(ours[size_t(i)].width <= width + 0.01);
        }
    }

    // What goes in copies out (poppler reads the ToUnicode maps), in every script the path
    // through Qt's shaper handles as well as the fast one.
    void textCopiesOut_data() {
        QTest::addColumn<QString>("content");
        QTest::addColumn<QString>("expected");
        // Poppler joins a symbol to the words around it in its reading-order output (it did for
        // Qt's PDF writer too): spaces are compared only where poppler keeps them.
        QTest::newRow("plain") << QStringLiteral("The falcon flies at dawn.")
                               << QStringLiteral("The falcon flies at dawn.");
        QTest::newRow("styles") << QStringLiteral("Some **bold**, *italic*, `code` and ~~gone~~ text.")
                                << QStringLiteral("Some bold, italic, code and gone text.");
        QTest::newRow("accents") << QStringLiteral("Naïve café crème brûlée, señor.")
                                 << QStringLiteral("Naïve café crème brûlée, señor.");
        QTest::newRow("greek cyrillic") << QStringLiteral("Ελληνικά κείμενα και русский текст.")
                                        << QStringLiteral("Ελληνικά κείμενα και русский текст.");
        QTest::newRow("combining accent") << QStringLiteral("cafe\u0301 and n\u0303o") << QStringLiteral("café and ño");
        QTest::newRow("arabic") << QStringLiteral("مرحبا بالعالم") << QStringLiteral("مرحبا بالعالم");
        QTest::newRow("hebrew") << QStringLiteral("שלום עולם") << QStringLiteral("שלום עולם");
        QTest::newRow("symbols") << QStringLiteral("x → y ≤ ∑ z ∞ ✓") << QStringLiteral("x → y ≤ ∑ z ∞ ✓");
        QTest::newRow("parentheses and backslashes")
            << QStringLiteral("f(x) = (a\\b) ((()))") << QStringLiteral("f(x) = (a\\b) ((()))");
        QTest::newRow("code block") << QStringLiteral("```\nint answer = 42;\n```")
                                    << QStringLiteral("int answer = 42;");
    }
    void textCopiesOut() {
        QFETCH(QString, content);
        QFETCH(QString, expected);
        const QString pdf = exported({QStringLiteral("Say it"), content}, QStringLiteral("text.pdf"));
        QVERIFY(!pdf.isEmpty());
        QString text = runTool(QStringLiteral("pdftotext"),
                               {QStringLiteral("-enc"), QStringLiteral("UTF-8"), pdf, QStringLiteral("-")});
        if (text.isNull()) QSKIP("pdftotext (poppler-utils) is not installed");
        // pdftotext marks right-to-left runs with embedding controls.
        text.remove(QChar(0x202B)).remove(QChar(0x202C)).remove(QChar(0x202A));
        text = text.normalized(QString::NormalizationForm_C).simplified();
        expected = expected.normalized(QString::NormalizationForm_C);
        if (QTest::currentDataTag() == QLatin1String("symbols")) {
            text.remove(QLatin1Char(' '));
            expected.remove(QLatin1Char(' '));
        }
        QVERIFY2(text.contains(expected), qPrintable(text));
    }

    // Nothing is drawn outside the body, whatever the shape of the text: long words, deep
    // nesting, wide tables, long code lines, a long right-to-left paragraph.
    void linesStayInsideTheBody_data() {
        QTest::addColumn<QString>("content");
        QTest::newRow("long word") << QString(3000, u'w');
        QTest::newRow("long url") << QStringLiteral("See https://example.com/") + QString(400, u'a') +
                                         QStringLiteral(" for more.");
        QString list;
        for (int i = 0; i < 40; ++i) list += QString(i * 2, u' ') + QStringLiteral("- level%1 words here\n").arg(i);
        QTest::newRow("deep list") << list;
        QTest::newRow("deep quote") << QString(60, u'>') + QStringLiteral(" deep quoted text that goes on and on");
        QString table = QStringLiteral("|");
        for (int c = 0; c < 14; ++c) table += QStringLiteral(" column%1 |").arg(c);
        table += QStringLiteral("\n|");
        for (int c = 0; c < 14; ++c) table += QStringLiteral("---|");
        table += QStringLiteral("\n|");
        for (int c = 0; c < 14; ++c) table += QStringLiteral(" cell text %1 that wraps |").arg(c);
        QTest::newRow("wide table") << table;
        QString wider = QStringLiteral("|");
        for (int c = 0; c < 60; ++c) wider += QStringLiteral(" c%1 |").arg(c);
        wider += QStringLiteral("\n|") + QStringLiteral("---|").repeated(60) + QStringLiteral("\n|") +
                 QStringLiteral(" value |").repeated(60);
        QTest::newRow("table wider than the page") << wider;
        QTest::newRow("tall table cell") << QStringLiteral("| a | b |\n|---|---|\n| ") +
                                                QStringLiteral("word ").repeated(3000) + QStringLiteral(" | z |");
        QTest::newRow("long code line") << QStringLiteral("```\n") + QString(2000, u'c') + QStringLiteral("\n```");
        QTest::newRow("long arabic") << QStringLiteral("مرحبا بالعالم ").repeated(300);
    }
    void linesStayInsideTheBody() {
        QFETCH(QString, content);
        const QString pdf = exported({QStringLiteral("Shape"), content}, QStringLiteral("body.pdf"));
        QVERIFY(!pdf.isEmpty());
        bool available = false;
        const QList<Word> words = wordsOf(pdf, &available);
        if (!available) QSKIP("pdftotext (poppler-utils) is not installed");
        QVERIFY(words.size() > 3);
        for (const Word& w : words) {
            const bool pageNumber = w.yMin > kBodyBottom;
            if (pageNumber) {
                QVERIFY2(w.text == QString::number(w.page), qPrintable(w.text));
                continue;
            }
            QVERIFY2(w.xMin >= kBodyLeft - 0.5 && w.xMax <= kBodyRight + 0.5 && w.yMin >= kBodyTop - 0.5 &&
                         w.yMax <= kBodyBottom + 0.5,
                     qPrintable(QStringLiteral("page %1 \"%2\" at %3,%4 to %5,%6")
                                    .arg(w.page)
                                    .arg(w.text.left(40))
                                    .arg(w.xMin)
                                    .arg(w.yMin)
                                    .arg(w.xMax)
                                    .arg(w.yMax)));
        }
    }

    // A long chat runs over many pages, numbered; a message's label never ends a page (it
    // goes over with the message); every line of every message is there, in order.
    void pagesBreakBetweenLines() {
        QStringList contents;
        for (int i = 0; i < 120; ++i) {
            contents.append(QStringLiteral("Message %1 first line.\n\nMessage %1 second paragraph, longer, so that "
                                           "it wraps onto a second line of the page body at this size.")
                                .arg(i));
        }
        const QString pdf = exported(contents, QStringLiteral("pages.pdf"));
        QVERIFY(!pdf.isEmpty());
        bool available = false;
        const QList<Word> words = wordsOf(pdf, &available);
        if (!available) QSKIP("pdftotext (poppler-utils) is not installed");
        const int pages = words.isEmpty() ? 0 : words.back().page;
        QVERIFY2(pages >= 5, qPrintable(QString::number(pages)));
        for (int page = 1; page <= pages; ++page) {
            QList<Word> body;
            bool numbered = false;
            for (const Word& w : words) {
                if (w.page != page) continue;
                if (w.yMin > kBodyBottom) {
                    numbered = w.text == QString::number(page);
                } else {
                    body.append(w);
                }
            }
            QVERIFY2(numbered, qPrintable(QStringLiteral("page %1 has no number").arg(page)));
            QVERIFY(!body.isEmpty());
            const Word& last = *std::max_element(body.begin(), body.end(), [](const Word& a, const Word& b) {
                return a.yMax < b.yMax || (a.yMax == b.yMax && a.xMin < b.xMin);
            });
            QVERIFY2(last.text != QStringLiteral("User") && last.text != QStringLiteral("Assistant"),
                     qPrintable(QStringLiteral("page %1 ends with a label").arg(page)));
        }
        QString all;
        for (const Word& w : words) all += w.text + QLatin1Char(' ');
        qsizetype at = 0;
        for (int i = 0; i < 120; ++i) {
            for (const QString& phrase : {QStringLiteral("Message %1 first line.").arg(i),
                                          QStringLiteral("Message %1 second paragraph").arg(i)}) {
                const qsizetype found = all.indexOf(phrase, at);
                QVERIFY2(found >= 0, qPrintable(phrase));
                at = found;
            }
        }
    }

    // The file itself: the cross-reference table gives each object's exact offset, startxref
    // gives the table's, the trailer counts the entries; poppler reads it without a complaint;
    // fonts are embedded subsets with ToUnicode maps.
    void fileIsWellFormed() {
        QStringList contents{QStringLiteral("Hello **world** `code` مرحبا")};
        for (int i = 0; i < 200; ++i) contents.append(QStringLiteral("Line %1 of many, *styled*.").arg(i));
        const QString path = exported(contents, QStringLiteral("file.pdf"));
        QVERIFY(!path.isEmpty());
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray pdf = file.readAll();
        QVERIFY(pdf.startsWith("%PDF-1.7\n"));
        QVERIFY(pdf.endsWith("%%EOF\n"));
        const qsizetype startxref = pdf.lastIndexOf("startxref\n");
        QVERIFY(startxref > 0);
        const qsizetype xref = pdf.mid(startxref + 10).split('\n').front().toLongLong();
        QVERIFY(pdf.mid(xref).startsWith("xref\n0 "));
        const QList<QByteArray> lines = pdf.mid(xref).split('\n');
        const int count = lines[1].split(' ')[1].toInt();
        QVERIFY(count > 10);
        int used = 0;
        for (int n = 1; n < count; ++n) {
            const QByteArray entry = lines[2 + n];
            QCOMPARE(entry.size(), 19);  // 20 bytes with the newline
            if (entry.endsWith('f')) continue;
            ++used;
            const qsizetype offset = entry.left(10).toLongLong();
            QVERIFY2(pdf.mid(offset).startsWith(QByteArray::number(n) + " 0 obj\n"), entry.constData());
        }
        QVERIFY(used > 10);
        QVERIFY(pdf.contains("trailer\n<</Size " + QByteArray::number(count) + "/Root "));

        const QString info = runTool(QStringLiteral("pdfinfo"), {path});
        if (info.isNull()) QSKIP("pdfinfo (poppler-utils) is not installed");
        const QRegularExpressionMatch pages = QRegularExpression(QStringLiteral("Pages:\\s+(\\d+)")).match(info);
        QVERIFY2(pages.hasMatch() && pages.captured(1).toInt() > 1, qPrintable(info));
        QVERIFY2(info.contains(QRegularExpression(QStringLiteral("Title:\\s+Writer\\n"))), qPrintable(info));
        const QString fonts = runTool(QStringLiteral("pdffonts"), {path});
        const QStringList rows = fonts.split(QLatin1Char('\n'), Qt::SkipEmptyParts).mid(2);
        QVERIFY2(rows.size() >= 3, qPrintable(fonts));
        for (const QString& row : rows) {
            // name, type (two words), encoding, then emb sub uni: all "yes".
            QVERIFY2(row.contains(QRegularExpression(QStringLiteral("^[A-Z]{6}\\+\\S+\\s+CID TrueType\\s+Identity-H"
                                                                    "\\s+yes\\s+yes\\s+yes"))),
                     qPrintable(fonts));
        }
    }

    // A table longer than a page shows its header row again at the top of each page it
    // continues on, and never leaves the header alone at the bottom of a page.
    void tableHeaderRepeatsOnEachPage() {
        QString table = QStringLiteral("Scores:\n\n| Player | Points |\n|---|--:|\n");
        for (int i = 0; i < 150; ++i) table += QStringLiteral("| player%1 | %1 |\n").arg(i);
        const QString pdf = exported({QStringLiteral("Table"), table}, QStringLiteral("table.pdf"));
        QVERIFY(!pdf.isEmpty());
        bool available = false;
        const QList<Word> words = wordsOf(pdf, &available);
        if (!available) QSKIP("pdftotext (poppler-utils) is not installed");
        int pages = 0;
        for (const Word& w : words) pages = std::max(pages, w.page);
        QVERIFY(pages >= 3);
        int headers = 0;
        for (int page = 1; page <= pages; ++page) {
            QList<Word> body;
            for (const Word& w : words) {
                if (w.page == page && w.yMax < kBodyBottom) body.append(w);
            }
            std::sort(body.begin(), body.end(), [](const Word& a, const Word& b) {
                return a.yMin < b.yMin || (a.yMin == b.yMin && a.xMin < b.xMin);
            });
            const auto at = std::find_if(body.begin(), body.end(),
                                         [](const Word& w) { return w.text == QStringLiteral("Player"); });
            if (at == body.end()) continue;
            ++headers;
            // The header is followed by a row on the same page.
            QVERIFY2(std::any_of(body.begin(), body.end(),
                                 [&](const Word& w) {
                                     return w.yMin > at->yMax && w.text.startsWith(QStringLiteral("player"));
                                 }),
                     qPrintable(QStringLiteral("page %1").arg(page)));
            // On a page the table continues on, the header comes first.
            if (page > 1) QCOMPARE(body.front().text, QStringLiteral("Player"));
        }
        QCOMPARE(headers, pages);
        // Every row is there once.
        int rows = 0;
        for (const Word& w : words) rows += w.text.startsWith(QStringLiteral("player")) ? 1 : 0;
        QCOMPARE(rows, 150);
    }

    // Several conversations: each starts a page and has an entry in the reader's outline that
    // opens that page (poppler's pdftohtml -xml lists the outline with each entry's page).
    void outlineListsEachConversation() {
        QList<ConversationArchive> archives;
        QStringList longer;
        for (int i = 0; i < 90; ++i) longer.append(QStringLiteral("Message %1 of the second one.").arg(i));
        archives.append(
            linearArchive(QStringLiteral("First & <one>"), {QStringLiteral("Hi"), QStringLiteral("Hello")}));
        archives.append(linearArchive(QStringLiteral("Второй"), longer));
        archives.append(linearArchive(QStringLiteral("Third"), {QStringLiteral("Bye")}));
        const QString file = dir_.filePath(QStringLiteral("outline.pdf"));
        QVERIFY(writeExport(archives, ExportFormat::Pdf, file));
        const QString xml = runTool(QStringLiteral("pdftohtml"), {QStringLiteral("-xml"), QStringLiteral("-stdout"),
                                                                  QStringLiteral("-i"), QStringLiteral("-q"), file});
        if (xml.isNull()) QSKIP("pdftohtml (poppler-utils) is not installed");
        static const QRegularExpression item(QStringLiteral("<item page=\"(\\d+)\">([^<]*)</item>"));
        QStringList entries;
        for (auto it = item.globalMatch(xml); it.hasNext();) {
            const QRegularExpressionMatch m = it.next();
            entries.append(m.captured(1) + QLatin1Char(' ') + m.captured(2));
        }
        bool available = false;
        const QList<Word> words = wordsOf(file, &available);
        int lastPage = 0;
        for (const Word& w : words) lastPage = std::max(lastPage, w.page);
        // The second conversation fills more than a page, so the third starts after it.
        QVERIFY(lastPage >= 4);
        QCOMPARE(entries, (QStringList{QStringLiteral("1 First &amp; &lt;one&gt;"), QStringLiteral("2 Второй"),
                                       QStringLiteral("%1 Third").arg(lastPage)}));
        // One conversation: no outline.
        QVERIFY(writeExport({archives.front()}, ExportFormat::Pdf, file));
        QVERIFY(!runTool(QStringLiteral("pdftohtml"), {QStringLiteral("-xml"), QStringLiteral("-stdout"),
                                                       QStringLiteral("-i"), QStringLiteral("-q"), file})
                     .contains(QStringLiteral("<outline")));
    }

    // A face without TrueType outlines is embedded as Type 3 fonts drawn from its outlines. Set
    // that way on purpose (no CFF font is installed here), the same conversation copies out the
    // same words at the same places (pdftotext -bbox), and poppler draws each page with about
    // the same ink as with TrueType subsets (unhinted outlines come out a little darker).
    void type3FontsShowTheSameText() {
        QStringList contents{QStringLiteral("Compare **bold**, *italic*, `code` and Ελληνικά, русский, مرحبا.")};
        for (int i = 0; i < 80; ++i) contents.append(QStringLiteral("Line %1: the quick brown fox.").arg(i));
        const auto write = [&](FontSet::Embedding embedding, const QString& name) {
            QFile file(dir_.filePath(name));
            if (!file.open(QIODevice::WriteOnly)) return QString();
            const Status s = writeConversationsPdf({linearArchive(QStringLiteral("Writer"), contents)}, file,
                                                   QStringLiteral("Writer"), embedding);
            return s ? file.fileName() : QString();
        };
        const QString subsets = write(FontSet::Embedding::Automatic, QStringLiteral("subsets.pdf"));
        const QString outlines = write(FontSet::Embedding::Outlines, QStringLiteral("outlines.pdf"));
        QVERIFY(!subsets.isEmpty() && !outlines.isEmpty());

        const QString fonts = runTool(QStringLiteral("pdffonts"), {outlines});
        if (fonts.isNull()) QSKIP("pdffonts (poppler-utils) is not installed");
        const QStringList rows = fonts.split(QLatin1Char('\n'), Qt::SkipEmptyParts).mid(2);
        QVERIFY2(rows.size() >= 4, qPrintable(fonts));
        for (const QString& row : rows) {
            QVERIFY2(row.contains(QRegularExpression(QStringLiteral("Type 3\\s+Custom\\s+yes\\s+no\\s+yes"))),
                     qPrintable(fonts));
        }
        bool available = false;
        const QList<Word> expected = wordsOf(subsets, &available);
        const QList<Word> got = wordsOf(outlines, &available);
        QVERIFY(expected.size() > 400);
        QCOMPARE(got.size(), expected.size());
        for (qsizetype i = 0; i < got.size(); ++i) {
            QCOMPARE(got[i].text, expected[i].text);
            QCOMPARE(got[i].page, expected[i].page);
            QVERIFY2(std::abs(got[i].xMin - expected[i].xMin) < 0.05 && std::abs(got[i].xMax - expected[i].xMax) < 0.05,
                     qPrintable(got[i].text));
        }

        // The ink on each page: the sum of darkness over its pixels.
        const auto ink = [&](const QString& pdf) {
            const QString prefix = pdf + QStringLiteral("-page");
            runTool(QStringLiteral("pdftoppm"),
                    {QStringLiteral("-r"), QStringLiteral("50"), QStringLiteral("-gray"), pdf, prefix});
            QList<double> pages;
            for (const QString& name :
                 QDir(dir_.path())
                     .entryList({QFileInfo(prefix).fileName() + QStringLiteral("*.pgm")}, QDir::Files, QDir::Name)) {
                const QImage image = QImage(dir_.filePath(name)).convertToFormat(QImage::Format_Grayscale8);
                double sum = 0;
                for (int y = 0; y < image.height(); ++y) {
                    const uchar* row = image.constScanLine(y);
                    for (int x = 0; x < image.width(); ++x) sum += 255 - row[x];
                }
                pages.append(sum);
            }
            return pages;
        };
        const QList<double> subsetInk = ink(subsets), outlineInk = ink(outlines);
        if (subsetInk.isEmpty()) QSKIP("pdftoppm (poppler-utils) is not installed");
        QCOMPARE(outlineInk.size(), subsetInk.size());
        for (qsizetype p = 0; p < subsetInk.size(); ++p) {
            const double ratio = outlineInk[p] / subsetInk[p];
            QVERIFY2(ratio > 0.9 && ratio < 1.25, qPrintable(QStringLiteral("page %1: %2").arg(p + 1).arg(ratio)));
        }
    }

    // A device that fills up (a full disk) gives a clear error, whenever it happens; the
    // caller's QSaveFile then leaves the old file in place (test_export_import).
    void reportsAFullDevice_data() {
        QTest::addColumn<qint64>("room");
        QTest::newRow("nothing") << qint64(0);
        QTest::newRow("the header") << qint64(20);
        QTest::newRow("100 kB") << qint64(100000);
    }
    void reportsAFullDevice() {
        QFETCH(qint64, room);
        QStringList contents;
        for (int i = 0; i < 3000; ++i) contents.append(QStringLiteral("Message %1 with some words in it.").arg(i));
        FullDevice device(room);
        const Status s =
            writeConversationsPdf({linearArchive(QStringLiteral("Full"), contents)}, device, QStringLiteral("Full"));
        QVERIFY(!s);
        QCOMPARE(errorText(s), QStringLiteral("could not write the PDF (is the disk full?)"));
        QVERIFY(device.written <= room);
    }

    // Numbers as the content streams write them: two decimals at most, nothing trailing.
    void writesNumbersCompactly_data() {
        QTest::addColumn<double>("value");
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("zero") << 0.0 << QByteArray("0");
        QTest::newRow("integer") << 595.0 << QByteArray("595");
        QTest::newRow("one decimal") << 12.5 << QByteArray("12.5");
        QTest::newRow("two decimals") << 0.05 << QByteArray("0.05");
        QTest::newRow("rounded") << 841.8898 << QByteArray("841.89");
        QTest::newRow("negative") << -3.256 << QByteArray("-3.26");
        QTest::newRow("rounds to zero") << 0.004 << QByteArray("0");
        QTest::newRow("not finite") << std::numeric_limits<double>::infinity() << QByteArray("0");
    }
    void writesNumbersCompactly() {
        QFETCH(double, value);
        QFETCH(QByteArray, text);
        QByteArray out;
        appendNumber(out, value);
        QCOMPARE(out, text);
    }
};

int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    TestPdfWriter test;
    return QTest::qExec(&test, argc, argv);
}

#include "test_pdf_writer.moc"
