#pragma once
// Turns the rich text's blocks into bands for the pages: each block's style (size, weight,
// colour, margins, indents, backgrounds) is decided here, in one table, the PDF's style sheet.
// Paragraphs become one band per line, so pages break between lines; a table row becomes one
// band (or, when taller than a page, one band per line of its cells).

#include "app/export/pdf/page_writer.h"
#include "app/export/pdf/rich_text.h"

namespace fm::pdf {

class BlockLayout {
public:
    BlockLayout(TextLayouter& text, PageWriter& pages) : text_(text), pages_(pages) {}

    void add(const RichBlock& block);
    // The next block starts a page; the spacing before it is dropped.
    void startNewPage();

private:
    struct BlockStyle {
        TextStyle text;
        float marginTop = 0, marginBottom = 0;
        bool keepWithNext = false;
    };
    static BlockStyle styleOf(const RichBlock& block);

    void space(float before);
    void paragraph(const RichBlock& block, const BlockStyle& style, float indent, float width);
    void code(const RichBlock& block, const BlockStyle& style, float indent, float width);
    void rule(float indent, float width);
    void table(const RichBlock& block, const BlockStyle& style, float indent, float width);
    void tableAsLines(const RichBlock& block, const BlockStyle& style, float indent, float width);
    std::vector<StyledText> styled(const QList<Span>& spans, const TextStyle& base) const;
    void quoteBars(Band& band, int depth, float indent) const;

    TextLayouter& text_;
    PageWriter& pages_;
    float pendingMargin_ = 0;  // the last block's bottom margin, collapsed with the next top
    int quoteDepth_ = 0;       // of the block being laid out
};

}  // namespace fm::pdf
