#pragma once
// PDF with a writer of our own (app/export/pdf/): the rich text document_formats renders is laid
// out and written page by page, with subset fonts and selectable text; no external tools.

#include "app/export/conversation_archive.h"
#include "app/export/pdf/pdf_fonts.h"

class QIODevice;

namespace fm {

// Writes the conversations' visible branches as an A4 PDF with selectable text. Fonts come from
// the system through Qt, so a QGuiApplication must exist (any platform; "offscreen" is enough);
// the call fails with a message otherwise. Safe on a worker thread. `embedding`: how fonts go
// into the file (TrueType subsets where possible, unless outlines are asked for).
Status writeConversationsPdf(const QList<ConversationArchive>& conversations, QIODevice& device, const QString& title,
                             pdf::FontSet::Embedding embedding = pdf::FontSet::Embedding::Automatic);

}  // namespace fm
