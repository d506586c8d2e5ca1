#pragma once
// PDF through Qt's own writer (QTextDocuments laid out a few messages at a time and painted
// onto a QPdfWriter page by page): no external tools.

#include "app/export/conversation_archive.h"

class QIODevice;

namespace fm {

// Writes the conversations' visible branches as an A4 PDF with selectable text. Text layout
// needs fonts, so a QGuiApplication must exist (any platform; "offscreen" is enough); the
// call fails with a message otherwise. Safe on a worker thread.
Status writeConversationsPdf(const QList<ConversationArchive>& conversations, QIODevice& device, const QString& title);

}  // namespace fm
