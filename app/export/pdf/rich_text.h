#pragma once
// The PDF's input, read back from the rich-text HTML that document_formats writes
// (writeRichText): headings, paragraphs, labels, code, lists, quotes, rules and tables, each a
// run of styled spans. Only that subset is understood, which is all the writer produces; any
// other tag is skipped and its text kept, so nothing a message says can go missing.

#include <QList>
#include <QString>

namespace fm::pdf {

enum SpanStyle : unsigned char {
    kPlain = 0,
    kBold = 1,
    kItalic = 2,
    kMono = 4,  // inline code: monospace on a grey background
    kStrike = 8,
};

struct Span {
    QString text;  // '\n' is a forced line break (<br>)
    unsigned char style = kPlain;
};

struct TableCell {
    QList<Span> spans;
    bool header = false;
    Qt::Alignment alignment = Qt::AlignLeft;
};

struct RichBlock {
    enum class Kind { Title, Meta, Label, Heading, Paragraph, Language, Code, ListItem, Rule, Table };
    Kind kind = Kind::Paragraph;
    int headingLevel = 0;  // Heading: 2 to 6
    QString labelRole;     // Label: "user", "assistant", "system" or empty
    int quoteDepth = 0;
    int listDepth = 0;  // ListItem: 1 for a top-level item
    QString marker;     // ListItem: "•" or "3."
    QList<Span> spans;  // Code: one span, lines separated by '\n'
    QList<QList<TableCell>> rows;
};

QList<RichBlock> parseRichText(QStringView html);

}  // namespace fm::pdf
