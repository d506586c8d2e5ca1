#include "app/export/pdf/text_layout.h"

#include <QTextLayout>

#include <algorithm>

namespace fm::pdf {
namespace {

// Qt lays the shaped path out at this many pixels per point: its positions are precise enough
// there, and fonts are unhinted, so nothing snaps to whole pixels.
constexpr float kShapeScale = 16;
// A shaped paragraph is cut into pieces about this long: QTextLayout's line breaking takes time
// that grows with the square of a paragraph's length.
constexpr qsizetype kShapedPiece = 1000;

struct Item {
    int span;
    quint16 code;
    float advance;
};

// Builds one line's runs from laid-out characters.
class LineBuilder {
public:
    LineBuilder(FontSet& fonts, const std::vector<StyledText>& spans) : fonts_(fonts), spans_(spans) {}

    Line build(const Item* items, size_t count, int fallbackSpan) {
        Line line;
        float x = 0;
        float trailingSpaces = 0;
        const TextStyle& first = spans_[size_t(fallbackSpan)].style;
        FontFace& firstFace = fonts_.styled(first.font);
        line.ascent = firstFace.ascent() * first.size;
        line.descent = firstFace.descent() * first.size;
        for (size_t i = 0; i < count;) {
            const int span = items[i].span;
            const TextStyle& style = spans_[size_t(span)].style;
            FontFace& face = fonts_.styled(style.font);
            line.ascent = std::max(line.ascent, face.ascent() * style.size);
            line.descent = std::max(line.descent, face.descent() * style.size);
            GlyphRun run;
            run.face = &face;
            run.size = style.size;
            run.color = style.color;
            run.x = x;
            const float start = x;
            for (; i < count && items[i].span == span; ++i) {
                run.codes.push_back(items[i].code);
                x += items[i].advance;
            }
            if (style.codeBackground) line.backgrounds.push_back({start - 1, x - start + 2, 0xfff0f1f3});
            if (style.strike) line.strikes.push_back({start, x - start, style.color});
            line.runs.push_back(std::move(run));
        }
        // Spaces at the end of a line hang in the margin: they do not count.
        for (size_t i = count; i > 0 && items[i - 1].code == spaceCode(items[i - 1].span); --i) {
            trailingSpaces += items[i - 1].advance;
        }
        line.width = x - trailingSpaces;
        return line;
    }

private:
    quint16 spaceCode(int span) { return fonts_.styled(spans_[size_t(span)].style.font).simpleGlyph(u' ').code; }

    FontSet& fonts_;
    const std::vector<StyledText>& spans_;
};

// Gives each shaped glyph the characters it stands for, so the PDF maps it back to them.
//  1. A character goes to the glyph whose centre lies within the character's extent (between
//     the edges Qt reports for it).
//  2. Qt reports no extent for the first character of a right-to-left run: such characters take
//     the glyphs no character claimed, in order.
//  3. Marks, joiners and the second half of a surrogate pair join the glyph of the character
//     before them (a letter and its accent copy out together).
std::vector<QString> glyphTexts(const QTextLine& line, const QString& text, const std::vector<float>& centres) {
    constexpr qsizetype kUnplaced = -1, kJoinsPrevious = -2;
    const int start = line.textStart(), length = line.textLength();
    std::vector<qsizetype> owner(size_t(length), kUnplaced);
    std::vector<bool> claimed(centres.size(), false);
    for (int i = 0; i < length; ++i) {
        const QChar ch = text.at(start + i);
        if (ch == QChar::LineSeparator) continue;
        if (ch.isLowSurrogate() || ch.isMark() || ch.category() == QChar::Other_Format) {
            owner[size_t(i)] = kJoinsPrevious;
            continue;
        }
        const float a = float(line.cursorToX(start + i, QTextLine::Leading)) / kShapeScale;
        const float b = float(line.cursorToX(start + i, QTextLine::Trailing)) / kShapeScale;
        const float left = std::min(a, b), right = std::max(a, b);
        if (right - left <= 0.01f) continue;
        float bestDistance = 1e9f;
        for (size_t g = 0; g < centres.size(); ++g) {
            if (centres[g] < left - 0.01f || centres[g] > right + 0.01f) continue;
            const float distance = std::abs(centres[g] - (left + right) / 2);
            if (distance < bestDistance) {
                bestDistance = distance;
                owner[size_t(i)] = qsizetype(g);
            }
        }
        if (owner[size_t(i)] >= 0) claimed[size_t(owner[size_t(i)])] = true;
    }
    size_t unclaimed = 0;
    for (int i = 0; i < length; ++i) {
        if (owner[size_t(i)] != kUnplaced || text.at(start + i) == QChar::LineSeparator) continue;
        while (unclaimed < claimed.size() && claimed[unclaimed]) ++unclaimed;
        if (unclaimed == claimed.size()) break;
        owner[size_t(i)] = qsizetype(unclaimed);
        claimed[unclaimed] = true;
    }
    std::vector<QString> texts(centres.size());
    qsizetype previous = kUnplaced;
    for (int i = 0; i < length; ++i) {
        qsizetype g = owner[size_t(i)];
        if (g < 0) g = previous;
        if (g < 0) {  // nothing before it: the next character's glyph
            for (int j = i + 1; j < length && g < 0; ++j) g = owner[size_t(j)];
        }
        if (g >= 0 && text.at(start + i) != QChar::LineSeparator) texts[size_t(g)] += text.at(start + i);
        previous = g;
    }
    return texts;
}

}  // namespace

std::vector<Line> TextLayouter::layOut(const std::vector<StyledText>& spans, float width) {
    std::vector<Line> lines;
    if (spans.empty()) return lines;
    width = std::max(width, 1.0f);
    if (settable(spans)) {
        layOutSimple(spans, width, lines);
    } else {
        layOutShaped(spans, width, lines);
    }
    if (lines.empty()) lines.push_back(LineBuilder(fonts_, spans).build(nullptr, 0, 0));
    return lines;
}

float TextLayouter::widthOf(QStringView text, const TextStyle& style) {
    const std::vector<Line> lines = layOut({{text, style}}, 1e6f);
    return lines.empty() ? 0 : lines.front().width;
}

bool TextLayouter::settable(const std::vector<StyledText>& spans) {
    for (const StyledText& span : spans) {
        FontFace& face = fonts_.styled(span.style.font);
        for (QChar ch : span.text) {
            if (ch != QLatin1Char('\n') && face.simpleGlyph(ch.unicode()).code == 0) return false;
        }
    }
    return true;
}

void TextLayouter::layOutSimple(const std::vector<StyledText>& spans, float width, std::vector<Line>& lines) {
    LineBuilder builder(fonts_, spans);
    std::vector<Item> items;
    float lineWidth = 0;
    size_t breakAt = 0;  // items before it can end a line (the last one is a space); 0: none
    int lastSpan = 0;
    const auto endLine = [&](size_t count) {
        lines.push_back(builder.build(items.data(), count, items.empty() ? lastSpan : items.front().span));
        items.erase(items.begin(), items.begin() + std::ptrdiff_t(count));
        lineWidth = 0;
        for (const Item& item : items) lineWidth += item.advance;
        breakAt = 0;
    };
    for (size_t s = 0; s < spans.size(); ++s) {
        const StyledText& span = spans[s];
        FontFace& face = fonts_.styled(span.style.font);
        lastSpan = int(s);
        for (qsizetype c = 0; c < span.text.size(); ++c) {
            const QChar ch = span.text.at(c);
            if (ch == QLatin1Char('\n')) {
                endLine(items.size());
                continue;
            }
            const Glyph& glyph = face.simpleGlyph(ch.unicode());
            const float advance = glyph.advance * span.style.size;
            const bool space = ch == QLatin1Char(' ');
            if (!space && lineWidth + advance > width && !items.empty()) {
                endLine(breakAt > 0 ? breakAt : items.size());
                // What came after the break may still be too wide: a word longer than a line.
                while (!items.empty() && lineWidth + advance > width) endLine(items.size());
            }
            items.push_back({int(s), glyph.code, advance});
            lineWidth += advance;
            // A line may end after a space, or after a hyphen not followed by a digit (UAX #14,
            // as Qt breaks: "well-|known", but "-5" stays whole).
            const bool hyphenBreak = ch == QLatin1Char('-') && items.size() > 1 &&
                                     !(c + 1 < span.text.size() && span.text.at(c + 1).isDigit());
            if (space || hyphenBreak) breakAt = items.size();
        }
    }
    if (!items.empty() || lines.empty()) endLine(items.size());
}

Line TextLayouter::shapedLine(const QTextLine& l, const QString& text, const QList<QTextLayout::FormatRange>& formats,
                              const std::vector<StyledText>& spans, const std::vector<int>& spanStart, int from) {
    Line line;
    line.ascent = float(l.ascent()) / kShapeScale;
    line.descent = float(l.descent()) / kShapeScale;
    line.width = float(l.naturalTextWidth()) / kShapeScale;
    const qreal baseline = l.y() + l.ascent();
    struct Placed {
        size_t run;
        quint32 id;
    };
    std::vector<Placed> placed;
    std::vector<float> centres;
    for (const QTextLayout::FormatRange& range : formats) {
        const int a = std::max(range.start, l.textStart());
        const int b = std::min(range.start + range.length, l.textStart() + l.textLength());
        if (a >= b) continue;
        // The span this range was made from: the last one starting at or before it.
        const auto span =
            size_t(std::upper_bound(spanStart.begin(), spanStart.end(), range.start + from) - spanStart.begin() - 1);
        const TextStyle& style = spans[std::min(span, spans.size() - 1)].style;
        float left = 1e9f, right = -1e9f;
        for (const QGlyphRun& glyphs : l.glyphRuns(a, b - a)) {
            const QList<quint32> ids = glyphs.glyphIndexes();
            const QList<QPointF> at = glyphs.positions();
            if (ids.isEmpty()) continue;
            GlyphRun run;
            // No font has these glyphs (an emoji without an emoji font): .notdef boxes, still
            // mapped to their text.
            FontFace* face = fonts_.forRawFont(glyphs.rawFont());
            const bool found = face != nullptr;
            run.face = found ? face : &fonts_.styled(style.font);
            run.size = found ? float(glyphs.rawFont().pixelSize()) / kShapeScale : style.size;
            run.color = style.color;
            run.x = float(at.front().x()) / kShapeScale;
            for (qsizetype g = 0; g < ids.size(); ++g) {
                const quint32 id = found ? ids[g] : 0;
                const float x = float(at[g].x()) / kShapeScale;
                const float advance = run.face->advanceOf(id) * run.size;
                run.xs.push_back(x);
                run.rises.push_back(float(baseline - at[g].y()) / kShapeScale);
                placed.push_back({line.runs.size(), id});
                centres.push_back(x + advance / 2);
                left = std::min(left, x);
                right = std::max(right, x + advance);
            }
            line.runs.push_back(std::move(run));
        }
        if (left < right && style.codeBackground) line.backgrounds.push_back({left - 1, right - left + 2, 0xfff0f1f3});
        if (left < right && style.strike) line.strikes.push_back({left, right - left, style.color});
    }
    const std::vector<QString> texts = glyphTexts(l, text, centres);
    for (size_t g = 0; g < placed.size(); ++g) {
        GlyphRun& run = line.runs[placed[g].run];
        run.codes.push_back(run.face->codeForShapedGlyph(placed[g].id, texts[g]));
    }
    return line;
}

void TextLayouter::layOutShaped(const std::vector<StyledText>& spans, float width, std::vector<Line>& lines) {
    QString text;
    std::vector<int> spanStart;
    for (const StyledText& span : spans) {
        spanStart.push_back(int(text.size()));
        text += span.text;
    }
    spanStart.push_back(int(text.size()));
    text.replace(QLatin1Char('\n'), QChar::LineSeparator);

    QTextOption option;
    option.setWrapMode(QTextOption::WrapAtWordBoundaryOrAnywhere);
    option.setUseDesignMetrics(true);
    qsizetype from = 0;
    while (from < text.size() || (from == 0 && text.isEmpty())) {
        qsizetype to = std::min(text.size(), from + kShapedPiece);
        if (to < text.size()) {
            for (qsizetype i = to - 1; i > from + kShapedPiece * 3 / 4; --i) {
                if (text.at(i) == QLatin1Char(' ')) {
                    to = i + 1;
                    break;
                }
            }
            if (text.at(to - 1).isHighSurrogate()) --to;
        }
        QTextLayout layout(text.sliced(from, to - from), fonts_.qfont(spans.front().style.font, 160));
        layout.setTextOption(option);
        QList<QTextLayout::FormatRange> formats;
        for (size_t s = 0; s < spans.size(); ++s) {
            const int a = std::max<int>(spanStart[s], int(from)), b = std::min<int>(spanStart[s + 1], int(to));
            if (a >= b) continue;
            QTextCharFormat format;
            format.setFont(fonts_.qfont(spans[s].style.font, int(std::lround(spans[s].style.size * kShapeScale))));
            formats.append({a - int(from), b - a, format});
        }
        layout.setFormats(formats);
        layout.beginLayout();
        qreal y = 0;
        for (QTextLine l = layout.createLine(); l.isValid(); l = layout.createLine()) {
            l.setLineWidth(width * kShapeScale);
            l.setPosition(QPointF(0, y));
            y += l.height();
        }
        layout.endLayout();
        for (int n = 0; n < layout.lineCount(); ++n) {
            lines.push_back(shapedLine(layout.lineAt(n), layout.text(), formats, spans, spanStart, int(from)));
        }
        if (to <= from) break;
        from = to;
    }
}

}  // namespace fm::pdf
