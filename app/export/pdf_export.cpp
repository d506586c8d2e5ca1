#include "app/export/pdf_export.h"

#include "app/export/document_formats.h"
#include "app/export/pdf/block_layout.h"
#include "app/export/pdf/pdf_file.h"

#include <QGuiApplication>

#ifndef FM_EXPORT_APP_VERSION
#define FM_EXPORT_APP_VERSION "0.0.0"
#endif

namespace fm {

Status writeConversationsPdf(const QList<ConversationArchive>& conversations, QIODevice& device, const QString& title,
                             pdf::FontSet::Embedding embedding) {
    if (qobject_cast<QGuiApplication*>(QCoreApplication::instance()) == nullptr) {
        return toError(
            QStringLiteral("PDF export needs a QGuiApplication for its fonts "
                           "(none is running)"));
    }
    pdf::PdfFile file(device);
    pdf::FontSet fonts(file, embedding);
    if (!fonts.available()) {
        return toError(QStringLiteral("PDF export found no font to set the text in"));
    }
    pdf::TextLayouter text(fonts);
    pdf::PageWriter pages(file, fonts, text);
    pdf::BlockLayout blocks(text, pages);
    // One piece (a conversation's header, a message) at a time: parsed, laid out and painted
    // before the next is rendered, so memory follows a message and a page, not the export.
    writeRichText(conversations, [&](const QString& html, bool newPage) {
        if (newPage) blocks.startNewPage();
        for (const pdf::RichBlock& block : pdf::parseRichText(html)) blocks.add(block);
    });
    if (!pages.finish(title, QStringLiteral("Falcon Mamba Chat " FM_EXPORT_APP_VERSION))) {
        return toError(QStringLiteral("could not write the PDF (is the disk full?)"));
    }
    // Other write errors surface when the caller commits the device (QSaveFile).
    return {};
}

}  // namespace fm
