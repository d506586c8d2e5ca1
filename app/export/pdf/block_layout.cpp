#include "app/export/pdf/block_layout.h"

#include <algorithm>
#include <numeric>

namespace fm::pdf {
namespace {

constexpr QRgb kText = 0xff1f2328;
constexpr QRgb kMuted = 0xff656d76;
constexpr QRgb kQuoteText = 0xff4b535c;
constexpr QRgb kBorder = 0xffd0d7de;
constexpr QRgb kCodeBackground = 0xfff0f1f3;
constexpr float kQuoteIndent = 14;
constexpr float kListIndent = 16;
constexpr float kCodePadding = 4;
constexpr float kCellPadding = 4;
// Narrower than this a column could not hold a letter: a table with more columns than fit at
// this width is set as one line of text per row instead.
constexpr float kMinColumn = 2 * kCellPadding + 12;
// A page's body height (A4 less 2 cm margins), for rows that cannot fit on one page.
constexpr float kBodyHeight = 841.8898f - 2 * 56.6929f;

Band lineBand(Line line, float x, bool keepWithNext) {
    Band band;
    band.height = line.height();
    band.keepWithNext = keepWithNext;
    band.lines.push_back({x, 0, std::move(line)});
    return band;
}

}  // namespace

BlockLayout::BlockStyle BlockLayout::styleOf(const RichBlock& block) {
    BlockStyle s;
    switch (block.kind) {
    case RichBlock::Kind::Title: s = {{FontSet::kBold, 17, kText}, 0, 4, true}; break;
    case RichBlock::Kind::Meta: s = {{FontSet::kSans, 9, kMuted}, 0, 8, false}; break;
    case RichBlock::Kind::Label:
        s = {{FontSet::kBold, 9, block.labelRole == QLatin1String("user") ? 0xff1a7f37 : 0xff2f6feb}, 14, 2, true};
        break;
    case RichBlock::Kind::Heading: {
        const float size = block.headingLevel <= 2 ? 14 : block.headingLevel == 3 ? 12 : 10;
        s = {{FontSet::kBold, size, kText}, 8, 3, true};
        break;
    }
    case RichBlock::Kind::Language: s = {{FontSet::kSans, 8, kMuted}, 5, 1, true}; break;
    case RichBlock::Kind::Code: s = {{FontSet::kMono, 9, kText}, 4, 4, false}; break;
    case RichBlock::Kind::ListItem: s = {{FontSet::kSans, 10, kText}, 1, 1, false}; break;
    case RichBlock::Kind::Rule: s = {{FontSet::kSans, 10, kText}, 6, 6, false}; break;
    case RichBlock::Kind::Table: s = {{FontSet::kSans, 10, kText}, 4, 6, false}; break;
    case RichBlock::Kind::Paragraph: s = {{FontSet::kSans, 10, kText}, 2, 4, false}; break;
    }
    if (block.quoteDepth > 0 && s.text.color == kText) s.text.color = kQuoteText;
    return s;
}

void BlockLayout::add(const RichBlock& block) {
    const BlockStyle style = styleOf(block);
    const float full = pages_.bodyWidth();
    // Deep nesting indents no further than half the page: the text keeps room.
    const float indent = std::min(full / 2, block.quoteDepth * kQuoteIndent + block.listDepth * kListIndent);
    const float width = full - indent;
    quoteDepth_ = block.quoteDepth;
    space(style.marginTop);
    switch (block.kind) {
    case RichBlock::Kind::Code: code(block, style, indent, width); break;
    case RichBlock::Kind::Rule: rule(indent, width); break;
    case RichBlock::Kind::Table: table(block, style, indent, width); break;
    default: paragraph(block, style, indent, width); break;
    }
    pendingMargin_ = style.marginBottom;
}

void BlockLayout::startNewPage() {
    pendingMargin_ = 0;
    pages_.startNewPage();
}

void BlockLayout::space(float before) {
    Band band;
    band.height = std::max(pendingMargin_, before);
    band.spacing = true;
    // Space always comes before something: it goes to a new page with it, never alone.
    band.keepWithNext = true;
    if (band.height > 0) pages_.add(std::move(band));
    pendingMargin_ = 0;
}

std::vector<StyledText> BlockLayout::styled(const QList<Span>& spans, const TextStyle& base) const {
    std::vector<StyledText> out;
    out.reserve(size_t(spans.size()));
    for (const Span& span : spans) {
        TextStyle s = base;
        if ((span.style & kBold) != 0) s.font |= FontSet::kBold;
        if ((span.style & kItalic) != 0) s.font |= FontSet::kItalic;
        if ((span.style & kMono) != 0) {
            s.font |= FontSet::kMono;
            s.size = base.size * 0.9f;
            s.codeBackground = true;
        }
        s.strike = (span.style & kStrike) != 0;
        out.push_back({span.text, s});
    }
    return out;
}

void BlockLayout::quoteBars(Band& band, int depth, float indent) const {
    if (depth <= 0) return;
    // One bar, for the innermost quote: deep nesting stays readable.
    band.fills.push_back({std::max(0.0f, indent - kQuoteIndent + 3), 0, 2, band.height + 0.5f, kBorder});
}

void BlockLayout::paragraph(const RichBlock& block, const BlockStyle& style, float indent, float width) {
    std::vector<Line> lines = text_.layOut(styled(block.spans, style.text), width);
    for (size_t i = 0; i < lines.size(); ++i) {
        Band band = lineBand(std::move(lines[i]), indent, style.keepWithNext);
        if (i == 0 && block.kind == RichBlock::Kind::Title) {
            for (const Span& span : block.spans) band.outline += span.text;
            band.outline = band.outline.simplified();
        }
        if (i == 0 && !block.marker.isEmpty()) {
            std::vector<Line> marker = text_.layOut({{block.marker, style.text}}, kListIndent * 4);
            const float x = std::max(0.0f, indent - marker.front().width - 5);
            band.lines.push_back(
                {x, band.lines.front().line.ascent - marker.front().ascent, std::move(marker.front())});
        }
        quoteBars(band, quoteDepth_, indent - block.listDepth * kListIndent);
        pages_.add(std::move(band));
    }
}

void BlockLayout::code(const RichBlock& block, const BlockStyle& style, float indent, float width) {
    QString source;
    for (const Span& span : block.spans) source += span.text;
    source.replace(QLatin1Char('\t'), QStringLiteral("    "));
    const QStringList sourceLines = source.split(QLatin1Char('\n'));
    std::vector<Line> lines;
    for (const QString& sourceLine : sourceLines) {
        std::vector<Line> wrapped = text_.layOut({{sourceLine, style.text}}, width - 2 * kCodePadding);
        for (Line& line : wrapped) lines.push_back(std::move(line));
    }
    for (size_t i = 0; i < lines.size(); ++i) {
        const float top = i == 0 ? kCodePadding : 0;
        const float bottom = i + 1 == lines.size() ? kCodePadding : 0;
        Band band;
        band.height = top + lines[i].height() + bottom;
        band.lines.push_back({indent + kCodePadding, top, std::move(lines[i])});
        // A little past the band's bottom, so neighbouring bands' backgrounds leave no seam.
        band.fills.push_back({indent, 0, width, band.height + (bottom > 0 ? 0 : 0.5f), kCodeBackground});
        quoteBars(band, quoteDepth_, indent - block.listDepth * kListIndent);
        pages_.add(std::move(band));
    }
}

void BlockLayout::rule(float indent, float width) {
    Band band;
    band.height = 1;
    band.fills.push_back({indent, 0, width, 0.75f, kBorder});
    pages_.add(std::move(band));
}

void BlockLayout::tableAsLines(const RichBlock& block, const BlockStyle& style, float indent, float width) {
    for (const auto& row : block.rows) {
        QList<Span> spans;
        for (const TableCell& cell : row) {
            if (!spans.isEmpty()) spans.append({QStringLiteral(" \u2502 "), kPlain});
            for (Span span : cell.spans) {
                if (cell.header) span.style |= kBold;
                span.text.replace(QLatin1Char('\n'), QLatin1Char(' '));
                spans.append(span);
            }
        }
        RichBlock line;
        line.spans = spans;
        line.quoteDepth = block.quoteDepth;
        line.listDepth = block.listDepth;
        paragraph(line, style, indent, width);
    }
}

void BlockLayout::table(const RichBlock& block, const BlockStyle& style, float indent, float width) {
    size_t columns = 0;
    for (const auto& row : block.rows) columns = std::max(columns, size_t(row.size()));
    if (columns == 0) return;
    if (float(columns) * kMinColumn > width) return tableAsLines(block, style, indent, width);
    const auto cellText = [&](const TableCell& cell) {
        TextStyle base = style.text;
        if (cell.header) base.font |= FontSet::kBold;
        return styled(cell.spans, base);
    };
    // Each column as wide as its widest cell, as long as the table fits; otherwise the room is
    // shared out, narrow columns first keeping their natural width.
    std::vector<float> natural(columns, 2 * kCellPadding + 6);
    for (const auto& row : block.rows) {
        for (qsizetype c = 0; c < row.size(); ++c) {
            for (const Line& line : text_.layOut(cellText(row[c]), 1e7f)) {
                natural[size_t(c)] = std::max(natural[size_t(c)], line.width + 2 * kCellPadding);
            }
        }
    }
    std::vector<float> widths = natural;
    if (std::accumulate(natural.begin(), natural.end(), 0.0f) > width) {
        std::vector<size_t> order(columns);
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return natural[a] < natural[b]; });
        float left = width;
        for (size_t i = 0; i < columns; ++i) {
            const size_t c = order[i];
            widths[c] = std::min(natural[c], left / float(columns - i));
            left -= widths[c];
        }
    }
    std::vector<float> xs(columns + 1, indent);
    for (size_t c = 0; c < columns; ++c) xs[c + 1] = xs[c] + widths[c];

    std::optional<Band> header;
    for (qsizetype r = 0; r < block.rows.size(); ++r) {
        // From the second row on (the first goes with the header), the header row is drawn
        // again at the top of each page the table continues on.
        if (r == 2 && header) pages_.setRunningHeader(header);
        const QList<TableCell>& row = block.rows[r];
        std::vector<std::vector<Line>> cells(columns);
        float tallest = 0;
        size_t mostLines = 0;
        for (size_t c = 0; c < size_t(row.size()); ++c) {
            cells[c] = text_.layOut(cellText(row[qsizetype(c)]), widths[c] - 2 * kCellPadding);
            float height = 0;
            for (const Line& line : cells[c]) height += line.height();
            tallest = std::max(tallest, height);
            mostLines = std::max(mostLines, cells[c].size());
        }
        const auto place = [&](Band& band, size_t c, Line line, float y) {
            const Qt::Alignment align = c < size_t(row.size()) ? row[qsizetype(c)].alignment : Qt::AlignLeft;
            const float room = widths[c] - 2 * kCellPadding - line.width;
            const float shift = align == Qt::AlignRight ? room : align == Qt::AlignHCenter ? room / 2 : 0;
            band.lines.push_back({xs[c] + kCellPadding + std::max(0.0f, shift), y, std::move(line)});
        };
        const auto borders = [&](Band& band, bool top, bool bottom) {
            for (size_t c = 0; c <= columns; ++c) band.strokes.push_back({xs[c], 0, xs[c], band.height, kBorder});
            if (top) band.strokes.push_back({xs[0], 0, xs[columns], 0, kBorder});
            if (bottom) band.strokes.push_back({xs[0], band.height, xs[columns], band.height, kBorder});
            for (size_t c = 0; c < size_t(row.size()); ++c) {
                if (row[qsizetype(c)].header) band.fills.push_back({xs[c], 0, widths[c], band.height, kCodeBackground});
            }
        };
        if (tallest + 2 * kCellPadding <= kBodyHeight / 2) {
            Band band;
            band.height = tallest + 2 * kCellPadding;
            for (size_t c = 0; c < columns; ++c) {
                float y = kCellPadding;
                for (Line& line : cells[c]) {
                    const float h = line.height();
                    place(band, c, std::move(line), y);
                    y += h;
                }
            }
            borders(band, r == 0, true);
            quoteBars(band, quoteDepth_, indent - block.listDepth * kListIndent);
            if (r == 0 && std::any_of(row.begin(), row.end(), [](const TableCell& c) { return c.header; })) {
                band.keepWithNext = true;  // never alone at the bottom of a page
                header = band;
            }
            pages_.add(std::move(band));
            continue;
        }
        // A row taller than half a page: one band per line, so it can continue on the next page.
        for (size_t i = 0; i < mostLines; ++i) {
            Band band;
            const float top = i == 0 ? kCellPadding : 0;
            float height = 0;
            for (size_t c = 0; c < columns; ++c) {
                if (i < cells[c].size()) height = std::max(height, cells[c][i].height());
            }
            band.height = top + height + (i + 1 == mostLines ? kCellPadding : 0);
            for (size_t c = 0; c < columns; ++c) {
                if (i < cells[c].size()) place(band, c, std::move(cells[c][i]), top);
            }
            borders(band, r == 0 && i == 0, i + 1 == mostLines);
            pages_.add(std::move(band));
        }
    }
    pages_.setRunningHeader(std::nullopt);
}

}  // namespace fm::pdf
