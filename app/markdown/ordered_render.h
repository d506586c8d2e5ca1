#pragma once
// Rendering Markdown is most of the time a long export takes (Qt's importer builds a document
// per message). This runs `render` for items 0..count-1 on this thread and one helper thread,
// at most a window of items ahead of the consumer, and hands every result to `consume` in
// order, on this thread: the output is the same as a plain loop's, in about half the time on
// two cores, with memory for a window of results, not for the whole export.

#include <QString>

#include <functional>

namespace fm::app {

void renderInOrder(qsizetype count, const std::function<QString(qsizetype)>& render,
                   const std::function<void(qsizetype, QString&&)>& consume);

}  // namespace fm::app
