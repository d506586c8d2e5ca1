#pragma once
// Recurrent-state snapshots of conversations on disk ("instant resume").
//
// Falcon Mamba remembers a whole conversation in one fixed-size state, so keeping that state
// lets a conversation be reopened, regenerated or continued without reading its history
// again. Each snapshot is one file in a single folder (written atomically by
// save_snapshot_file: temporary file, fsync, rename) and one row of state_snapshots that
// references it by file name, relative to the folder, so a moved data folder keeps working.
//
// Kinds, all keyed to an assistant message:
//   "turn"         the state after that reply (the latest completed turn; one per conversation)
//   "before_reply" the state after the prompt that produced that reply, generation prompt
//                  included, before sampling (one per conversation; regenerate restores it)
//   "checkpoint"   the state after that reply, kept every few turns so that editing an older
//                  message re-reads only from the nearest earlier checkpoint (a few per
//                  conversation, thinned to stay evenly spread)
//
// Integrity: the row's checksum is the file's own trailing CRC-32 and byte_size its length, so
// a truncated, damaged or swapped file is caught when it is loaded; it is then set aside as
// *.corrupt, its row removed, and the caller rebuilds the state from the transcript.
//
// Threading: like ConversationStore, used only on the thread that owns `database` (the
// inference worker opens its own connection). Needs fm_inference for the file format.

#include "app/storage/conversation_store.h"
#include "app/storage/database.h"
#include "app/storage/storage_types.h"

#include <QList>
#include <QString>

#include <optional>

#include "inference/session/snapshot_file.h"

namespace fm {

namespace snapshot_kind {
inline const QString kTurn = QStringLiteral("turn");
inline const QString kBeforeReply = QStringLiteral("before_reply");
inline const QString kCheckpoint = QStringLiteral("checkpoint");
}  // namespace snapshot_kind

// A message of the prompt a snapshot is sought for, in prompt order (messages left out of the
// prompt, such as empty replies, are not listed).
struct PromptMessage {
    qint64 id = 0;
    MessageRole role = MessageRole::User;
};

// A snapshot row with the parent of its message (which "before_reply" applicability needs).
struct SnapshotRow {
    StateSnapshot row;
    qint64 messageParentId = 0;
};

// A snapshot usable as a starting point for a prompt: its state has read a prefix of it.
struct SnapshotCandidate {
    StateSnapshot row;
    // Prompt messages the state has read completely (before_reply: up to the reply's parent).
    int messagesCovered = 0;
};

// What loading a snapshot came to.
struct SnapshotLoad {
    std::optional<StoredSnapshot> stored;
    bool corrupt = false;  // the file was damaged or missing: set aside, row removed
    QString error;         // why it could not be used
};

struct RetentionReport {
    int removedSnapshots = 0;
    qint64 removedBytes = 0;
};

class SnapshotStore {
public:
    static constexpr int kDefaultRetentionConversations = 20;
    static constexpr int kCheckpointEveryTurns = 4;
    static constexpr int kMaxCheckpointsPerConversation = 4;
    static constexpr int kCorruptFilesKept = 3;  // for a look; older ones are deleted
    static inline const QString kSuffix = QStringLiteral(".fmstate");
    static inline const QString kCorruptSuffix = QStringLiteral(".corrupt");

    // `database` must be open at the latest schema version and outlive the store.
    SnapshotStore(Database& database, const QString& directory);

    // Creates the folder and tidies it: temporary files from an interrupted write, files no
    // row references (a crash between writing and recording, or rows removed with their
    // conversation), rows whose file is gone, and all but the newest few *.corrupt files.
    Status open();
    const QString& directory() const { return directory_; }
    QString absolutePath(const StateSnapshot& row) const;

    // Writes `stored` and records it for (conversation, message, kind). A new "turn" or
    // "checkpoint" supersedes the conversation's previous "turn"; a new "before_reply" the
    // previous "before_reply"; checkpoints beyond the cap are thinned. Superseded files are
    // deleted after their rows.
    Result<StateSnapshot> save(qint64 conversationId, qint64 messageId, const QString& kind,
                               const StoredSnapshot& stored);

    Result<QList<SnapshotRow>> snapshots(qint64 conversationId);
    // The conversation's snapshots whose state has read a prefix of the prompt `path`,
    // deepest first.
    Result<QList<SnapshotCandidate>> candidates(qint64 conversationId, const QList<PromptMessage>& path);
    static QList<SnapshotCandidate> applicable(const QList<SnapshotRow>& rows, const QList<PromptMessage>& path);

    // Reads and verifies one snapshot. A damaged or missing file is set aside (renamed to
    // *.corrupt) and its row removed; `corrupt` then says so and `error` why.
    SnapshotLoad load(const StateSnapshot& row);

    // Removes the row, then the file.
    Status remove(const StateSnapshot& row);
    // Keeps the snapshots of the `keepConversations` most recently active live conversations
    // and removes all others (0: keep none).
    Result<RetentionReport> enforceRetention(int keepConversations);
    // Bytes of snapshot files in the folder (set-aside corrupt ones included), and how many.
    qint64 diskUsageBytes() const;
    int fileCount() const;

private:
    Status removeRows(const QList<StateSnapshot>& rows);
    void setAside(const StateSnapshot& row);
    Status thinCheckpoints(qint64 conversationId);

    Database& db_;
    ConversationStore store_;
    QString directory_;
};

// The CRC-32 a snapshot file ends with, as the row's checksum ("crc32:%08x").
QString snapshotChecksum(const std::vector<uint8_t>& encoded);

}  // namespace fm
