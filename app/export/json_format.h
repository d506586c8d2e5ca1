#pragma once
// The JSON export format (docs/export-format.md): everything needed to rebuild conversations,
// branches included. Writing never fails; reading validates the whole document before
// anything is returned, so an import can refuse a bad file before touching the database.

#include "app/export/conversation_archive.h"

#include <QByteArray>
#include <QList>

#include <functional>

namespace fm {

// The "format" field's value and the version this build writes and reads.
inline constexpr char kExportFormatName[] = "falcon-mamba-chat-conversations";
inline constexpr int kExportFormatVersion = 1;

// Database ids become ids local to the file (1, 2, ... per conversation, in creation order);
// the current leaf and parent references use those ids. A message still streaming is
// written as 'interrupted': the file is a snapshot and nothing will finish that reply.
// `exportedAtMs` and the generator name are informational.
// Written piece by piece (about a megabyte at a time) into `sink`, so an export streams to its
// file; conversationsToJson() collects the pieces.
using ByteSink = std::function<void(const QByteArray& piece)>;
void writeJson(const QList<ConversationArchive>& conversations, qint64 exportedAtMs, const ByteSink& sink);
QByteArray conversationsToJson(const QList<ConversationArchive>& conversations, qint64 exportedAtMs);

// Parses and validates a document. On success the archives carry the file's local ids
// (Message::id, Message::parentId, Conversation::currentLeafMessageId; conversation ids 0).
// On failure the message names the first problem with its JSON path, e.g.
// "conversations[0].messages[3].parent: unknown id 17".
Result<QList<ConversationArchive>> conversationsFromJson(const QByteArray& document);

}  // namespace fm
