#pragma once
// Stacks bands (a line of text, a table row: whatever must not be cut) down A4 pages and writes
// each page's content stream as soon as the page is full, so memory follows one page, not the
// document. A band marked keepWithNext (a heading, a message's label) moves to the next page
// with the band after it; spacing bands vanish at the top of a page.

#include "app/export/pdf/text_layout.h"

#include <QString>

#include <optional>
#include <vector>

namespace fm::pdf {

class PdfFile;

struct Fill {
    float x, y, width, height;  // points, from the body's left and the band's top
    QRgb color;
};

struct Stroke {
    float x1, y1, x2, y2;
    QRgb color;
};

struct PlacedLine {
    float x, y;  // the line's top left in the band
    Line line;
};

struct Band {
    float height = 0;
    bool keepWithNext = false;
    bool spacing = false;  // only space: dropped at the top of a page
    std::vector<Fill> fills;
    std::vector<PlacedLine> lines;
    std::vector<Stroke> strokes;
    QString outline;  // an entry for the reader's outline (a conversation's title) starts here
};

class PageWriter {
public:
    PageWriter(PdfFile& file, FontSet& fonts, TextLayouter& text);

    float bodyWidth() const;
    void add(Band band);
    void startNewPage();  // the next band starts a page (a new conversation)
    // Drawn again at the top of every page begun while it is set (a table's header row).
    void setRunningHeader(std::optional<Band> header) { runningHeader_ = std::move(header); }

    // The last page, the page tree, the fonts, the outline (one entry per conversation when
    // there are several), the catalogue and the document information.
    bool finish(const QString& title, const QString& creator);

private:
    void place(std::vector<Band>& group);
    void paint(const Band& band);
    void paintLine(const PlacedLine& placed, float top);
    void endPage();
    void setFill(QRgb color);
    void setFont(const QByteArray& name, float size);

    PdfFile& file_;
    FontSet& fonts_;
    TextLayouter& text_;
    const int pageTree_;
    std::vector<int> pages_;
    struct OutlineEntry {
        QString title;
        size_t page;  // index into pages_
        float y;      // from the body's top
    };
    std::vector<OutlineEntry> outline_;
    int writeOutline();
    std::vector<Band> pending_;  // bands kept with the next one
    std::optional<Band> runningHeader_;
    QByteArray content_;
    float y_ = 0;  // from the body's top
    bool pageHasContent_ = false;
    bool pageOpen_ = false;
    // The graphics state already set in content_, to skip repeating it.
    QRgb fill_ = 0;
    QByteArray fontName_;
    float fontSize_ = 0;
};

}  // namespace fm::pdf
