#pragma once
// Instant resume on the inference worker: before a reply, put the generation session at the
// deepest saved state of the conversation's visible branch that this model can use; after it,
// save the states that make the next turn, a regeneration or an edit cheap.
//
// Lives on the worker thread with its own database connection (one per thread) and the
// snapshot folder. Saving happens here, after the reply has been announced, because reading
// the state (a device-to-host copy on CUDA) and writing tens of megabytes must stay off the
// GUI thread. A snapshot is only ever a starting point: the session still checks that what the
// state has read is a prefix of the new prompt, so a wrong choice costs time, never output.

#include <QString>
#include <QStringList>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/storage/snapshot_store.h"
#include "app/worker/inference_types.h"
#include "inference/session/generation.h"

namespace fm {
class Database;
}

namespace fm::app {

struct ResumeOutcome {
    // Where the session starts: "memory" (it had just read this conversation), a snapshot kind
    // ("turn", "before_reply", "checkpoint"), or empty (from the start).
    QString source;
    qint64 reusedTokens = 0;  // tokens already read when the session starts
    // Why history is read again although there is history to read (a saved state made by
    // another model, weight format or backend, a damaged file, none saved), for the user.
    QString reason;
    QStringList warnings;  // damaged snapshots that were set aside
};

class SessionResumer {
public:
    SessionResumer();
    ~SessionResumer();

    // Opens the database (this thread's own connection) and the snapshot folder. Returns an
    // error message, or an empty string.
    QString open(const QString& databasePath, const QString& directory);
    bool isOpen() const { return snapshots_ != nullptr; }
    void setRetention(int conversations) { retention_ = std::max(0, conversations); }
    int retention() const { return retention_; }
    // Whether replies should be snapshotted at all (open and keeping some conversations).
    bool saving() const { return isOpen() && retention_ > 0; }

    // What a snapshot must match to be used with this model: checkpoint + weight format,
    // backend numerics, chat or completion mode, and the tokenizer and template files.
    static std::string fingerprint(const fm::Backend& backend, const std::filesystem::path& checkpointDir,
                                   bool completionMode);
    // A sentence saying why a snapshot made under `saved` cannot be used under `current`.
    static QString mismatchReason(const QString& saved, const QString& current);

    // Before reply(): restores the deepest usable state into `session` (or keeps the one it
    // has, or resets it), for `request` whose rendered prompt is `prompt`.
    ResumeOutcome prepare(fm::GenerationSession& session, const GenerationRequest& request,
                          const std::vector<fm::PromptSegment>& prompt, const std::string& fingerprint);

    // After a reply that was fully read and generated: saves the state before the reply
    // (`beforeReply`, if taken) and after it (as "turn", or "checkpoint" every few turns),
    // then applies retention. Returns problems worth a warning (none: empty).
    QStringList saveAfterReply(fm::GenerationSession& session, const GenerationRequest& request,
                               const std::vector<fm::ChatMessage>& messages, const std::string& replyText,
                               const std::optional<fm::SessionSnapshot>& beforeReply, const std::string& fingerprint);

    // Removes what retention no longer allows (after the setting changed).
    QStringList applyRetention();
    qint64 diskUsageBytes() const;
    int fileCount() const;

private:
    std::unique_ptr<fm::Database> database_;
    std::unique_ptr<fm::SnapshotStore> snapshots_;
    int retention_ = fm::SnapshotStore::kDefaultRetentionConversations;
};

}  // namespace fm::app
