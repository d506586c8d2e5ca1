#include "app/export/pdf_export.h"

#include "app/export/document_formats.h"

#include <QGuiApplication>
#include <QPageLayout>
#include <QPageSize>
#include <QPdfWriter>
#include <QTextDocument>

#ifndef FM_EXPORT_APP_VERSION
#define FM_EXPORT_APP_VERSION "0.0.0"
#endif

namespace fm {

Status writeConversationsPdf(const QList<ConversationArchive>& conversations, QIODevice& device, const QString& title) {
    if (qobject_cast<QGuiApplication*>(QCoreApplication::instance()) == nullptr) {
        return toError(
            QStringLiteral("PDF export needs a QGuiApplication for its fonts "
                           "(none is running)"));
    }
    QPdfWriter writer(&device);
    writer.setCreator(QStringLiteral("Falcon Mamba Chat " FM_EXPORT_APP_VERSION));
    writer.setTitle(title);
    // QTextDocument::print() paginates a copy of the document to the page and adds a 2 cm
    // margin and page numbers itself: the page layout adds no margin of its own.
    writer.setPageLayout(
        QPageLayout(QPageSize(QPageSize::A4), QPageLayout::Portrait, QMarginsF(0, 0, 0, 0), QPageLayout::Millimeter));
    writer.setResolution(300);

    QTextDocument document;
    // The style sheet names DejaVu (Debian's default fonts); this is the fallback otherwise.
    QFont font(QStringLiteral("DejaVu Sans"));
    font.setPointSizeF(10);
    // No ligatures: with them "fi" becomes one glyph that copies out of the PDF (and reaches
    // search and screen readers) as U+FB01 instead of the two letters.
    font.setStyleStrategy(QFont::PreferNoShaping);
    document.setDefaultFont(font);
    document.setHtml(conversationsToRichText(conversations));
    document.print(&writer);
    // Write errors surface when the caller commits the device (QSaveFile).
    return {};
}

}  // namespace fm
