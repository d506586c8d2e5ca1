// PDF export: any message text (first byte 0) and any rich-text HTML (first byte 1, what the
// PDF writer reads back from document_formats) lay out and write a complete PDF: header,
// trailer, and a cross-reference table whose every offset points at its object.
#include <QBuffer>
#include <QGuiApplication>

#include <cstdlib>

#include "app/export/exporter.h"
#include "app/export/pdf/block_layout.h"
#include "app/export/pdf/pdf_file.h"

namespace {

void requireWellFormed(const QByteArray& pdf) {
    if (!pdf.startsWith("%PDF-1.7\n") || !pdf.endsWith("%%EOF\n")) std::abort();
    const qsizetype startxref = pdf.lastIndexOf("startxref\n");
    if (startxref < 0) std::abort();
    const qsizetype xref = pdf.mid(startxref + 10).split('\n').front().toLongLong();
    if (!pdf.mid(xref).startsWith("xref\n0 ")) std::abort();
    const QList<QByteArray> lines = pdf.mid(xref, startxref - xref).split('\n');
    const int count = lines.value(1).split(' ').value(1).toInt();
    for (int n = 1; n < count; ++n) {
        const QByteArray entry = lines.value(2 + n);
        if (entry.size() != 19) std::abort();
        if (entry.endsWith('f')) continue;
        if (!pdf.mid(entry.left(10).toLongLong()).startsWith(QByteArray::number(n) + " 0 obj\n")) std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static int argc = 1;
    static char name[] = "fuzz_pdf_export";
    static char* argv[] = {name, nullptr};
    static QGuiApplication* app = [] {
        qputenv("QT_QPA_PLATFORM", "offscreen");
        return new QGuiApplication(argc, argv);
    }();
    (void)app;
    if (size == 0) return 0;
    const QString text = QString::fromUtf8(reinterpret_cast<const char*>(data) + 1, qsizetype(size - 1));
    QByteArray pdf;
    if (data[0] % 2 == 0) {
        fm::ConversationArchive archive;
        archive.conversation.title = QStringLiteral("Fuzz");
        for (qint64 id : {1, 2}) {
            fm::Message m;
            m.id = id;
            m.parentId = id - 1;
            m.role = id == 1 ? fm::MessageRole::User : fm::MessageRole::Assistant;
            m.content = text;
            archive.messages.append(m);
        }
        archive.conversation.currentLeafMessageId = 2;
        auto rendered = fm::renderExport({archive}, fm::ExportFormat::Pdf);
        if (!rendered) std::abort();
        pdf = *rendered;
    } else {
        QBuffer buffer(&pdf);
        buffer.open(QIODevice::WriteOnly);
        fm::pdf::PdfFile file(buffer);
        fm::pdf::FontSet fonts(file);
        fm::pdf::TextLayouter layouter(fonts);
        fm::pdf::PageWriter pages(file, fonts, layouter);
        fm::pdf::BlockLayout blocks(layouter, pages);
        for (const fm::pdf::RichBlock& block : fm::pdf::parseRichText(text)) blocks.add(block);
        if (!pages.finish(QStringLiteral("Fuzz"), QStringLiteral("fuzz"))) std::abort();
    }
    requireWellFormed(pdf);
    return 0;
}
