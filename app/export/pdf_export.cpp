#include "app/export/pdf_export.h"

#include "app/export/document_formats.h"

#include <QAbstractTextDocumentLayout>
#include <QGuiApplication>
#include <QPageLayout>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QTextBlock>
#include <QTextCursor>
#include <QTextDocument>
#include <QTextLayout>

#include <algorithm>
#include <vector>

#ifndef FM_EXPORT_APP_VERSION
#define FM_EXPORT_APP_VERSION "0.0.0"
#endif

namespace fm {
namespace {

// A paragraph longer than this is laid out as several (Qt's line breaking takes time that grows
// with the square of a paragraph's length, so one 1 MB line would take minutes).
constexpr int kMaxBlockLength = 1000;

// A QTextDocument that never loads anything: whatever a message names stays a name.
class ClosedDocument : public QTextDocument {
protected:
    QVariant loadResource(int, const QUrl&) override { return {}; }
};

// Splits every paragraph longer than kMaxBlockLength, after a space near the limit where there
// is one. The pieces keep the paragraph's format, without margins between them.
void splitLongBlocks(QTextDocument& document) {
    std::vector<int> cuts;  // document positions, ascending
    for (QTextBlock b = document.begin(); b.isValid(); b = b.next()) {
        if (b.length() <= kMaxBlockLength) continue;
        const QString text = b.text();
        qsizetype from = 0;
        while (text.size() - from > kMaxBlockLength) {
            qsizetype at = from + kMaxBlockLength;
            for (qsizetype i = at - 1; i > from + kMaxBlockLength * 3 / 4; --i) {
                if (text.at(i) == QLatin1Char(' ')) {
                    at = i + 1;
                    break;
                }
            }
            if (text.at(at - 1).isHighSurrogate()) --at;
            cuts.push_back(b.position() + int(at));
            from = at;
        }
    }
    QTextCursor cursor(&document);
    // One edit: the cursor does not measure its place in the long paragraph after each step.
    cursor.beginEditBlock();
    for (auto it = cuts.rbegin(); it != cuts.rend(); ++it) {
        cursor.setPosition(*it);
        QTextBlockFormat rest = cursor.blockFormat();
        QTextBlockFormat first = rest;
        first.setBottomMargin(0);
        cursor.setBlockFormat(first);
        rest.setTopMargin(0);
        rest.setObjectIndex(-1);  // not another list item
        cursor.insertBlock(rest, cursor.charFormat());
    }
    cursor.endEditBlock();
}

// Lays out the pieces (a conversation's header, a message) a few at a time, each batch a
// document of its own, and paints them onto the pages, cutting between lines where a batch meets
// the bottom of a page. Time and memory follow the size of a batch (or of one long message), not
// of the conversation.
class PdfPages {
public:
    explicit PdfPages(QPdfWriter& writer) : writer_(writer) {
        // The style sheet names DejaVu (Debian's default fonts); this is the fallback otherwise.
        QFont font(QStringLiteral("DejaVu Sans"));
        font.setPointSizeF(10);
        // No ligatures: with them "fi" becomes one glyph that copies out of the PDF (and reaches
        // search and screen readers) as U+FB01 instead of the two letters.
        font.setStyleStrategy(QFont::PreferNoShaping);
        document_.setDefaultFont(font);
        document_.setDefaultStyleSheet(richTextStyleSheet());
        document_.setDocumentMargin(0);
        document_.documentLayout()->setPaintDevice(&writer_);
        numberFont_ = font;
        numberFont_.setPointSizeF(8);

        const qreal margin = 20.0 * writer_.resolution() / 25.4;  // 2 cm
        body_ = QRectF(margin, margin, writer_.width() - 2 * margin, writer_.height() - 2 * margin);
        y_ = body_.top();
        painter_.begin(&writer_);
    }

    bool ok() const { return painter_.isActive(); }

    // Pieces are laid out a few at a time (up to about kBatch characters of HTML): one document
    // per message would spend more on the documents than on their text.
    void add(const QString& html, bool newPage) {
        if (newPage) {
            flush();
            if (started_) this->newPage();
        }
        started_ = true;
        pending_ += html;
        if (pending_.size() >= kBatch) flush();
    }

    void finish() {
        flush();
        pageNumber();
        painter_.end();
    }

private:
    static constexpr qsizetype kBatch = 32 * 1024;

    void flush() {
        if (pending_.isEmpty()) return;
        layOut(pending_);
        pending_.clear();
    }

    void layOut(const QString& html) {
        // No layout while the document is built and its long paragraphs split (a null page size
        // defers it): laid out before that, one long paragraph would cost as much as it saves.
        document_.setPageSize(QSizeF(0, 0));
        document_.setHtml(QStringLiteral("<html><body>") + html + QStringLiteral("</body></html>"));
        splitLongBlocks(document_);
        document_.setTextWidth(body_.width());
        // size() lays the whole document out (the layout is otherwise lazy) before the lines
        // are read.
        const qreal height = document_.size().height();
        const std::vector<qreal> cuts = cutPositions();
        qreal start = 0;
        while (start < height) {
            const qreal room = body_.bottom() - y_;
            if (height - start <= room) {
                paint(start, height);
                y_ += height - start;
                break;
            }
            // The last place within reach where no line is cut through.
            auto at = std::upper_bound(cuts.begin(), cuts.end(), start + room);
            qreal cut = at == cuts.begin() ? start : *(at - 1);
            if (cut <= start) {
                if (y_ > body_.top()) {  // the next line does not fit here: a fresh page
                    this->newPage();
                    continue;
                }
                cut = start + room;  // a line taller than a page: cut through it
            }
            paint(start, cut);
            this->newPage();
            start = cut;
        }
    }

    // Where the document can be cut: the top of each line that no earlier line overlaps, except
    // right after a heading (a message's label included), which stays with what it introduces.
    std::vector<qreal> cutPositions() {
        struct Band {
            qreal top, bottom;
            bool cuttable;
        };
        std::vector<Band> bands;
        QAbstractTextDocumentLayout* layout = document_.documentLayout();
        bool afterHeading = false;
        for (QTextBlock b = document_.begin(); b.isValid(); b = b.next()) {
            const QTextLayout* lines = b.layout();
            if (lines == nullptr || lines->lineCount() == 0) continue;
            const qreal offset = layout->blockBoundingRect(b).top() - lines->boundingRect().top();
            for (int i = 0; i < lines->lineCount(); ++i) {
                const QTextLine line = lines->lineAt(i);
                bands.push_back({offset + line.y(), offset + line.y() + line.height(), i > 0 || !afterHeading});
            }
            afterHeading = b.blockFormat().headingLevel() > 0;
        }
        std::stable_sort(bands.begin(), bands.end(), [](const Band& a, const Band& b) { return a.top < b.top; });
        std::vector<qreal> cuts;
        qreal reached = 0;
        for (const Band& band : bands) {
            if (band.cuttable && band.top >= reached - 0.01) cuts.push_back(band.top);
            reached = std::max(reached, band.bottom);
        }
        return cuts;
    }

    void paint(qreal from, qreal to) {
        painter_.save();
        painter_.translate(body_.left(), y_ - from);
        document_.drawContents(&painter_, QRectF(0, from, body_.width(), to - from));
        painter_.restore();
    }

    void pageNumber() {
        painter_.save();
        painter_.setFont(numberFont_);
        painter_.setPen(QColor(0x65, 0x6d, 0x76));
        const QRectF footer(body_.left(), body_.bottom(), body_.width(), writer_.height() - body_.bottom());
        painter_.drawText(footer, Qt::AlignCenter, QString::number(page_));
        painter_.restore();
    }

    void newPage() {
        pageNumber();
        writer_.newPage();
        ++page_;
        y_ = body_.top();
    }

    QPdfWriter& writer_;
    QPainter painter_;
    ClosedDocument document_;
    QFont numberFont_;
    QString pending_;
    bool started_ = false;
    QRectF body_;
    qreal y_ = 0;
    int page_ = 1;
};

}  // namespace

Status writeConversationsPdf(const QList<ConversationArchive>& conversations, QIODevice& device, const QString& title) {
    if (qobject_cast<QGuiApplication*>(QCoreApplication::instance()) == nullptr) {
        return toError(
            QStringLiteral("PDF export needs a QGuiApplication for its fonts "
                           "(none is running)"));
    }
    QPdfWriter writer(&device);
    writer.setCreator(QStringLiteral("Falcon Mamba Chat " FM_EXPORT_APP_VERSION));
    writer.setTitle(title);
    // The pages' 2 cm margins and page numbers are drawn here: the page layout has none.
    writer.setPageLayout(
        QPageLayout(QPageSize(QPageSize::A4), QPageLayout::Portrait, QMarginsF(0, 0, 0, 0), QPageLayout::Millimeter));
    writer.setResolution(300);

    PdfPages pages(writer);
    if (!pages.ok()) return toError(QStringLiteral("cannot start the PDF"));
    writeRichText(conversations, [&](const QString& html, bool newPage) { pages.add(html, newPage); });
    pages.finish();
    // Write errors surface when the caller commits the device (QSaveFile).
    return {};
}

}  // namespace fm
