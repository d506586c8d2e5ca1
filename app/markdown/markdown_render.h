#pragma once
// A message's Markdown as HTML for the HTML and PDF exports, rendered as the chat window
// renders it: split into blocks by app/markdown_blocks (prose, fenced code, quotes, pipe
// tables), prose and quotes read by Qt's own Markdown importer (what TextEdit.MarkdownText
// uses), then written back out element by element with every piece of text escaped.
//
// Raw HTML in a message is shown as literal text, never interpreted (markdown_blocks escapes
// it before the importer sees it). Nothing is loaded from a message: an image shows as its
// alternative text and address, a link as its text followed by its address, neither as an
// element that could fetch or open anything.

#include <QString>

namespace fm {

// &, <, >, " and ' as entities: safe in element content and in quoted attributes.
QString escapeHtml(const QString& text);

enum class HtmlFlavour {
    Page,      // the standalone HTML page (styled by its own style sheet)
    RichText,  // the subset QTextDocument understands, for the PDF
};

QString markdownToHtml(const QString& markdown, HtmlFlavour flavour);

}  // namespace fm
