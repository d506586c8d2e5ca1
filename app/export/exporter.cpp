#include "app/export/exporter.h"

#include "app/export/document_formats.h"
#include "app/export/json_format.h"
#include "app/export/pdf_export.h"

#include <QBuffer>
#include <QDateTime>
#include <QFileInfo>
#include <QSaveFile>

namespace fm {
namespace {

struct FormatInfo {
    ExportFormat format;
    const char* name;
    const char* filter;
    std::initializer_list<const char*> aliases;
};

const FormatInfo kFormats[] = {
    {ExportFormat::Markdown, "md", "Markdown (*.md)", {"md", "markdown"}},
    {ExportFormat::Json, "json", "JSON (*.json)", {"json"}},
    {ExportFormat::Html, "html", "HTML page (*.html)", {"html", "htm"}},
    {ExportFormat::PlainText, "txt", "Plain text (*.txt)", {"txt", "text"}},
    {ExportFormat::Pdf, "pdf", "PDF (*.pdf)", {"pdf"}},
};

const FormatInfo& info(ExportFormat format) {
    for (const FormatInfo& i : kFormats) {
        if (i.format == format) {
            return i;
        }
    }
    return kFormats[0];
}

QString documentTitle(const QList<ConversationArchive>& conversations) {
    if (conversations.size() == 1) {
        return conversations.front().conversation.title;
    }
    return QStringLiteral("Conversations");
}

}  // namespace

std::optional<ExportFormat> exportFormatFromText(const QString& text) {
    const QString wanted = text.trimmed().toLower();
    for (const FormatInfo& i : kFormats) {
        for (const char* alias : i.aliases) {
            if (wanted == QLatin1String(alias)) {
                return i.format;
            }
        }
    }
    return std::nullopt;
}

std::optional<ExportFormat> exportFormatFromFileName(const QString& fileName) {
    const QString suffix = QFileInfo(fileName).suffix();
    return suffix.isEmpty() ? std::nullopt : exportFormatFromText(suffix);
}

QString exportFormatName(ExportFormat format) {
    return QLatin1String(info(format).name);
}
QString exportFileSuffix(ExportFormat format) {
    return QLatin1String(info(format).name);
}
QString exportNameFilter(ExportFormat format) {
    return QLatin1String(info(format).filter);
}

QStringList exportFormatNames() {
    QStringList names;
    for (const FormatInfo& i : kFormats) {
        names.append(QLatin1String(i.name));
    }
    return names;
}

Result<QByteArray> renderExport(const QList<ConversationArchive>& conversations, ExportFormat format) {
    switch (format) {
    case ExportFormat::Markdown: return conversationsToMarkdown(conversations).toUtf8();
    case ExportFormat::PlainText: return conversationsToPlainText(conversations).toUtf8();
    case ExportFormat::Html: return conversationsToHtml(conversations).toUtf8();
    case ExportFormat::Json: return conversationsToJson(conversations, QDateTime::currentMSecsSinceEpoch());
    case ExportFormat::Pdf: {
        QByteArray pdf;
        QBuffer buffer(&pdf);
        buffer.open(QIODevice::WriteOnly);
        if (Status s = writeConversationsPdf(conversations, buffer, documentTitle(conversations)); !s) {
            return Error{s.error()};
        }
        return pdf;
    }
    }
    return toError(QStringLiteral("unknown export format"));
}

Result<ExportSummary> writeExport(const QList<ConversationArchive>& conversations, ExportFormat format,
                                  const QString& path) {
    if (path.isEmpty()) {
        return toError(QStringLiteral("no file to export to"));
    }
    // QSaveFile writes a temporary file next to `path` and renames it on commit: a full
    // disk or a crash never leaves a truncated export (or destroys the previous one).
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        return toError(QStringLiteral("%1: cannot write: %2").arg(path, file.errorString()));
    }
    qint64 written = 0;
    bool ok = true;
    auto write = [&](const QByteArray& bytes) {
        ok = ok && file.write(bytes) == bytes.size();
        written += bytes.size();
    };
    // Every format streams to the file as it is made: memory follows a message (or a page), not
    // the conversation.
    const TextSink sink = [&](const QString& piece) { write(piece.toUtf8()); };
    switch (format) {
    case ExportFormat::Markdown: writeMarkdown(conversations, sink); break;
    case ExportFormat::PlainText: writePlainText(conversations, sink); break;
    case ExportFormat::Html: writeHtml(conversations, sink); break;
    case ExportFormat::Json: writeJson(conversations, QDateTime::currentMSecsSinceEpoch(), write); break;
    case ExportFormat::Pdf:
        if (Status s = writeConversationsPdf(conversations, file, documentTitle(conversations)); !s) {
            file.cancelWriting();
            return toError(QStringLiteral("%1: %2").arg(path, errorText(s)));
        }
        written = file.size();
        break;
    }
    if (!ok || !file.commit()) {
        const QString why = file.errorString();
        file.cancelWriting();
        return toError(QStringLiteral("%1: cannot write: %2").arg(path, why));
    }
    ExportSummary summary;
    summary.conversationCount = int(conversations.size());
    for (const ConversationArchive& archive : conversations) {
        summary.messageCount += int(archive.messages.size());
    }
    summary.bytes = written;
    return summary;
}

Result<ExportSummary> exportConversations(Database& db, std::optional<qint64> conversationId, ExportFormat format,
                                          const QString& path) {
    QList<ConversationArchive> conversations;
    if (conversationId) {
        Result<ConversationArchive> one = loadConversationArchive(db, *conversationId);
        if (!one) {
            return Error{one.error()};
        }
        conversations.append(*one);
    } else {
        Result<QList<ConversationArchive>> all = loadAllConversationArchives(db);
        if (!all) {
            return Error{all.error()};
        }
        conversations = *all;
    }
    return writeExport(conversations, format, path);
}

QString suggestedExportFileName(const QString& title, ExportFormat format) {
    QString name;
    for (QChar ch : title.simplified()) {
        // Refused or awkward on at least one of Linux, Windows, macOS.
        if (ch.isPrint() && !QStringLiteral("/\\:*?\"<>|").contains(ch)) {
            name += ch;
        }
    }
    name = name.trimmed().left(80).trimmed();
    while (name.startsWith(QLatin1Char('.'))) {
        name.remove(0, 1);
    }
    if (name.isEmpty()) {
        name = QStringLiteral("conversation");
    }
    return name + QLatin1Char('.') + exportFileSuffix(format);
}

}  // namespace fm
