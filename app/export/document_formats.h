#pragma once
// The human-readable exports: Markdown, plain text, self-contained HTML, and the Qt rich text
// the PDF writer lays out. Each shows a conversation's visible branch (first-level message
// to the current leaf), not the other branches: that is what the user saw on screen.
// Several conversations are written one after the other in one document.

#include "app/export/conversation_archive.h"

#include <QList>
#include <QString>

#include "app/markdown/markdown_render.h"

#include <functional>

namespace fm {

// The Markdown, plain-text and HTML documents are produced piece by piece (about a megabyte at
// a time) into a sink, so an export streams to its file; the QString forms collect them.
using TextSink = std::function<void(const QString& piece)>;

// Every message and the system prompt in a fenced block longer than any backtick run inside
// it; titles and labels escaped (docs/export-format.md).
void writeMarkdown(const QList<ConversationArchive>& conversations, const TextSink& sink);
QString conversationsToMarkdown(const QList<ConversationArchive>& conversations);

void writePlainText(const QList<ConversationArchive>& conversations, const TextSink& sink);
QString conversationsToPlainText(const QList<ConversationArchive>& conversations);

// A standalone page: inline CSS (light and dark through prefers-color-scheme), a
// Content-Security-Policy that forbids scripts and loading, every piece of text HTML-escaped,
// messages rendered from Markdown as the window renders them (markdown_render.h).
void writeHtml(const QList<ConversationArchive>& conversations, const TextSink& sink);
QString conversationsToHtml(const QList<ConversationArchive>& conversations);

// The subset of HTML that QTextDocument understands (no CSS variables or media queries),
// for the PDF, escaped the same way and with Markdown rendered as for the page. It comes piece
// by piece, each a fragment to lay out on its own under richTextStyleSheet(): a conversation's
// header (title, metadata, system prompt), then one piece per message (its label and body).
// `newPage`: the piece starts a new page (each conversation after the first).
using RichTextSink = std::function<void(const QString& html, bool newPage)>;
void writeRichText(const QList<ConversationArchive>& conversations, const RichTextSink& sink);
QString richTextStyleSheet();
// The pieces as one document (the style sheet inline), for tests and previews.
QString conversationsToRichText(const QList<ConversationArchive>& conversations);

// A message split into prose and fenced (``` or ~~~) code blocks, in order.
struct TextSegment {
    bool code = false;
    QString language;  // the fence's info word, code blocks only
    QString text;
};
QList<TextSegment> splitCodeBlocks(const QString& markdown);

}  // namespace fm
