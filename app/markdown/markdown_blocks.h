#pragma once
// Splits a message into the blocks the chat view renders one by one: prose (Markdown),
// fenced code (boxed, monospace, with its own copy button), block quotes (with a visible bar)
// and pipe tables (a grid with aligned columns). A fence that is still open (a reply
// streaming in the middle of a code block) runs to the end of the text.
//
// Every character of the source is shown: raw HTML in prose is escaped, so Qt's Markdown
// importer shows it as literal text instead of interpreting it (a `<br>` or an unclosed
// `<span>` would otherwise swallow the rest of the message, and `<img>` would load a file).

#include <QList>
#include <QString>
#include <QStringList>

namespace fm::app {

struct MarkdownBlock {
    enum class Kind { Prose, Code, Quote, Table };
    Kind kind = Kind::Prose;
    // Prose and quotes: Markdown, safe for TextEdit.MarkdownText (raw HTML escaped; a quote
    // without its `>` markers). Code: the code itself, without the fences.
    QString text;
    QString language;         // the info string after ``` (code only)
    bool closed = true;       // the closing fence was seen (code only)
    QList<QStringList> rows;  // table: header first, each cell safe Markdown
    QStringList alignments;   // table: per column "left", "center" or "right"

    bool code() const { return kind == Kind::Code; }
};

QList<MarkdownBlock> splitMarkdownBlocks(const QString& markdown);

// `markdown` with every character Qt's Markdown importer would treat as HTML (`<`, `&`)
// backslash-escaped, outside code spans (where the text is already literal).
QString escapeRawHtml(const QString& markdown);

// The kind as QML sees it: "prose", "code", "quote" or "table".
QString kindName(MarkdownBlock::Kind kind);

}  // namespace fm::app
