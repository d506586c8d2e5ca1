#pragma once
// Splits a message into prose and fenced code blocks, so the chat view can render prose as
// Markdown and code in a monospace box with its own copy button. A fence that is still open
// (a reply streaming in the middle of a code block) runs to the end of the text.

#include <QList>
#include <QString>

namespace fm::app {

struct MarkdownBlock {
    bool code = false;
    QString text;        // prose (Markdown) or the code itself, without the fences
    QString language;    // the info string after ``` (code only)
    bool closed = true;  // the closing fence was seen (code only)
};

QList<MarkdownBlock> splitMarkdownBlocks(const QString& markdown);

}  // namespace fm::app
