#pragma once
// Export and import as whole operations on a database: what the CLI and the ExportController's
// worker jobs call. Every function is synchronous and thread-agnostic; use it from the thread
// that opened `db`.

#include "app/export/conversation_archive.h"
#include "app/export/importer.h"

#include <QString>
#include <QStringList>

#include <optional>

namespace fm {

enum class ExportFormat { Markdown, Json, Html, PlainText, Pdf };

// "md"/"markdown", "json", "html"/"htm", "txt"/"text", "pdf" (any case).
std::optional<ExportFormat> exportFormatFromText(const QString& text);
// From a file name's suffix, e.g. "chat.md" -> Markdown.
std::optional<ExportFormat> exportFormatFromFileName(const QString& fileName);
QString exportFormatName(ExportFormat format);  // "md", "json", "html", "txt", "pdf"
QString exportFileSuffix(ExportFormat format);  // the same, without a dot
QString exportNameFilter(ExportFormat format);  // "Markdown (*.md)" for file dialogs
QStringList exportFormatNames();

// The document bytes for `conversations` (PDF needs a QGuiApplication, see pdf_export.h).
Result<QByteArray> renderExport(const QList<ConversationArchive>& conversations, ExportFormat format);

struct ExportSummary {
    int conversationCount = 0;
    int messageCount = 0;  // every message in the exported trees
    qint64 bytes = 0;
};

// Writes `conversations` to `path` atomically: the file appears complete or not at all
// (an existing file is replaced only on success).
Result<ExportSummary> writeExport(const QList<ConversationArchive>& conversations, ExportFormat format,
                                  const QString& path);

// One conversation (by database id) or, with std::nullopt, every live conversation.
Result<ExportSummary> exportConversations(Database& db, std::optional<qint64> conversationId, ExportFormat format,
                                          const QString& path);

// A file name for an export of one conversation: its title without characters that file
// systems refuse, plus the suffix. "conversation.md" when the title has nothing usable.
QString suggestedExportFileName(const QString& title, ExportFormat format);

}  // namespace fm
