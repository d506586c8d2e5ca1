#pragma once
// Breaks a paragraph of styled text into lines of placed glyphs, in points.
//
// Two paths. Text that a font's character map sets on its own (Latin, Greek, Cyrillic, symbols:
// nearly everything a chat holds) is laid out here, one table lookup per character, greedy
// breaking after spaces and, for a word wider than the line, between characters. Anything else
// (marks, right-to-left and complex scripts, characters the font lacks) goes through Qt's own
// shaper, QTextLayout, which also picks fallback fonts; each shaped glyph is mapped back to the
// characters it stands for from where Qt put their edges.

#include "app/export/pdf/pdf_fonts.h"

#include <QRgb>
#include <QStringView>
#include <QTextLayout>

#include <vector>

namespace fm::pdf {

struct TextStyle {
    unsigned font = FontSet::kSans;  // FontSet::Style bits
    float size = 10;                 // points
    QRgb color = 0xff1f2328;
    bool codeBackground = false;
    bool strike = false;
};

struct StyledText {
    QStringView text;  // '\n' breaks the line
    TextStyle style;
};

struct GlyphRun {
    FontFace* face = nullptr;
    float size = 0;
    QRgb color = 0;
    float x = 0;  // the first glyph's origin, from the line's left
    std::vector<quint16> codes;
    // Shaped runs: each glyph's origin (from the line's left) and height above the baseline.
    // Empty otherwise: each glyph follows the last one's advance, on the baseline.
    std::vector<float> xs, rises;
};

struct LineBox {
    float x = 0, width = 0;
    QRgb color = 0;
};

struct Line {
    float width = 0;
    float ascent = 0, descent = 0;
    std::vector<GlyphRun> runs;
    std::vector<LineBox> backgrounds;  // inline code, under the text
    std::vector<LineBox> strikes;      // at half the x-height

    float height() const { return ascent + descent; }
};

class TextLayouter {
public:
    explicit TextLayouter(FontSet& fonts) : fonts_(fonts) {}

    // The lines of `spans` at most `width` points wide (a word wider than that is broken). At
    // least one line, so an empty paragraph keeps its height.
    std::vector<Line> layOut(const std::vector<StyledText>& spans, float width);
    // The width of a short single-line text (list markers, page numbers).
    float widthOf(QStringView text, const TextStyle& style);

private:
    bool settable(const std::vector<StyledText>& spans);
    void layOutSimple(const std::vector<StyledText>& spans, float width, std::vector<Line>& lines);
    void layOutShaped(const std::vector<StyledText>& spans, float width, std::vector<Line>& lines);
    Line shapedLine(const QTextLine& line, const QString& text, const QList<QTextLayout::FormatRange>& formats,
                    const std::vector<StyledText>& spans, const std::vector<int>& spanStart, int from);

    FontSet& fonts_;
};

}  // namespace fm::pdf
