#include "app/worker/session_resumer.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <filesystem>
#include <system_error>

#include "app/storage/database.h"
#include "inference/backends/backend.h"
#include "inference/core/fingerprint.h"
#include "inference/session/snapshot_file.h"

namespace fm::app {
namespace {

std::string concat(const std::vector<fm::PromptSegment>& segments) {
    std::string s;
    for (const auto& seg : segments) s += seg.text;
    return s;
}

bool startsWith(const std::string& text, const std::string& prefix) {
    return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

// The prompt's messages that are stored messages (the system prompt is a setting, id 0).
QList<fm::PromptMessage> promptPath(const GenerationRequest& request) {
    QList<fm::PromptMessage> path;
    for (int i = 0; i < request.messages.size() && i < request.messageIds.size(); ++i) {
        if (request.messageIds[i] <= 0) continue;
        const bool assistant = request.messages[i].role == QStringLiteral("assistant");
        path.append({request.messageIds[i], assistant ? fm::MessageRole::Assistant : fm::MessageRole::User});
    }
    return path;
}

}  // namespace

SessionResumer::SessionResumer() = default;
SessionResumer::~SessionResumer() {
    snapshots_.reset();
    database_.reset();
}

QString SessionResumer::open(const QString& databasePath, const QString& directory) {
    snapshots_.reset();
    database_.reset();
    auto database = std::make_unique<fm::Database>();
    if (auto status = database->open(databasePath); !status) return errorText(status);
    auto snapshots = std::make_unique<fm::SnapshotStore>(*database, directory);
    if (auto status = snapshots->open(); !status) return errorText(status);
    database_ = std::move(database);
    snapshots_ = std::move(snapshots);
    return {};
}

std::string SessionResumer::fingerprint(const fm::Backend& backend, const std::filesystem::path& checkpointDir,
                                        bool completionMode) {
    // The files that decide how text becomes tokens: the same text read through another
    // tokenizer or template is another token sequence, so another state.
    fm::Fingerprint tokenization;
    for (const char* name : {"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
                             "chat_template.jinja"}) {
        std::error_code ec;
        const auto path = checkpointDir / name;
        const auto size = std::filesystem::file_size(path, ec);
        if (ec) continue;
        const auto time = std::filesystem::last_write_time(path, ec);
        tokenization.mix(name);
        tokenization.mix(std::to_string(size));
        if (!ec) tokenization.mix(std::to_string(time.time_since_epoch().count()));
    }
    return fm::snapshot_fingerprint(backend) + "/" + (completionMode ? "completion" : "chat") + "/tok-" +
           tokenization.hex();
}

QString SessionResumer::mismatchReason(const QString& saved, const QString& current) {
    const QStringList a = saved.split(QLatin1Char('/'));
    const QStringList b = current.split(QLatin1Char('/'));
    auto part = [](const QStringList& parts, int i) { return i < parts.size() ? parts[i] : QString(); };
    if (part(a, 0) != part(b, 0))
        return QStringLiteral("its saved state was made with a different checkpoint or weight format (bf16 or 4-bit)");
    if (part(a, 1) != part(b, 1))
        return QStringLiteral("its saved state was computed by another backend (%1; this one is %2)")
            .arg(part(a, 1), part(b, 1));
    if (part(a, 2) != part(b, 2)) return QStringLiteral("its saved state was made in %1 mode").arg(part(a, 2));
    if (part(a, 3) != part(b, 3))
        return QStringLiteral("the tokenizer or chat template files changed since its state was saved");
    return QStringLiteral("its saved state was made by a different model setup");
}

ResumeOutcome SessionResumer::prepare(fm::GenerationSession& session, const GenerationRequest& request,
                                      const std::vector<fm::PromptSegment>& segments, const std::string& fingerprint) {
    ResumeOutcome out;
    const std::string prompt = concat(segments);
    const qint64 seenTokens = static_cast<qint64>(session.context_tokens().size());
    const bool memoryUsable = seenTokens > 0 && startsWith(prompt, session.context_text());
    const QList<fm::PromptMessage> path = promptPath(request);
    const QString current = QString::fromStdString(fingerprint);

    QString skipped;  // why a deeper saved state was not used (the first reason found)
    if (snapshots_) {
        auto candidates = snapshots_->candidates(request.conversationId, path);
        const QList<fm::SnapshotCandidate> list = candidates ? *candidates : QList<fm::SnapshotCandidate>{};
        for (const fm::SnapshotCandidate& candidate : list) {
            // The state in memory is at least as far along: nothing on disk beats it.
            if (memoryUsable && candidate.row.tokenCount <= seenTokens) break;
            if (candidate.row.fingerprint != current) {
                if (skipped.isEmpty()) skipped = mismatchReason(candidate.row.fingerprint, current);
                continue;
            }
            fm::SnapshotLoad loaded = snapshots_->load(candidate.row);
            if (!loaded.stored) {
                if (loaded.corrupt) {
                    out.warnings << QStringLiteral(
                                        "A saved state of this conversation was damaged and has been set aside; "
                                        "it will be rebuilt (%1).")
                                        .arg(loaded.error);
                }
                if (skipped.isEmpty()) skipped = QStringLiteral("its saved state was damaged");
                continue;
            }
            const fm::SessionSnapshot& snapshot = loaded.stored->snapshot;
            if (!startsWith(prompt, snapshot.text)) {
                // Same messages but another rendering: the system prompt or template changed.
                if (skipped.isEmpty())
                    skipped = QStringLiteral("its system prompt or template changed since its state was saved");
                continue;
            }
            if (auto restored = session.restore(snapshot); !restored) {
                session.reset();
                if (skipped.isEmpty()) skipped = errorText(restored);
                continue;
            }
            out.source = candidate.row.kind;
            out.reusedTokens = candidate.row.tokenCount;
            if (!skipped.isEmpty()) out.reason = skipped;
            return out;
        }
    }
    if (memoryUsable) {
        out.source = QStringLiteral("memory");
        out.reusedTokens = seenTokens;
        return out;
    }
    // From the start. Worth saying why only when there is history to read again.
    session.reset();
    if (path.size() > 1)
        out.reason =
            skipped.isEmpty() ? QStringLiteral("no saved state covers this part of the conversation") : skipped;
    return out;
}

QStringList SessionResumer::saveAfterReply(fm::GenerationSession& session, const GenerationRequest& request,
                                           const std::vector<fm::ChatMessage>& messages, const std::string& replyText,
                                           const std::optional<fm::SessionSnapshot>& beforeReply,
                                           const std::string& fingerprint) {
    QStringList problems;
    if (!saving() || request.replyMessageId <= 0) return problems;
    const std::string metadata =
        QJsonDocument(QJsonObject{{QStringLiteral("conversation_id"), request.conversationId},
                                  {QStringLiteral("message_id"), request.replyMessageId},
                                  {QStringLiteral("backend"), QString::fromStdString(session.backend().name())}})
            .toJson(QJsonDocument::Compact)
            .toStdString();
    if (beforeReply) {
        auto saved = snapshots_->save(request.conversationId, request.replyMessageId, fm::snapshot_kind::kBeforeReply,
                                      {fingerprint, *beforeReply, metadata});
        if (!saved) problems << errorText(saved);
    }
    // The state after the reply helps only if the next prompt will start with what it has read,
    // i.e. the stored reply renders as exactly the text the session generated.
    std::vector<fm::ChatMessage> withReply = messages;
    withReply.push_back({"assistant", replyText});
    auto rendered = fm::render_prompt(session.format(), withReply, false);
    if (rendered && startsWith(concat(*rendered), session.context_text())) {
        int turn = 1;
        for (const ChatTurn& t : request.messages) turn += t.role == QStringLiteral("assistant") ? 1 : 0;
        const QString kind = turn % fm::SnapshotStore::kCheckpointEveryTurns == 0 ? fm::snapshot_kind::kCheckpoint
                                                                                  : fm::snapshot_kind::kTurn;
        auto saved = snapshots_->save(request.conversationId, request.replyMessageId, kind,
                                      {fingerprint, session.snapshot(), metadata});
        if (!saved) problems << errorText(saved);
    }
    problems << applyRetention();
    return problems;
}

QStringList SessionResumer::applyRetention() {
    if (!snapshots_) return {};
    auto report = snapshots_->enforceRetention(retention_);
    return report ? QStringList{} : QStringList{errorText(report)};
}

qint64 SessionResumer::diskUsageBytes() const {
    return snapshots_ ? snapshots_->diskUsageBytes() : 0;
}

int SessionResumer::fileCount() const {
    return snapshots_ ? snapshots_->fileCount() : 0;
}

}  // namespace fm::app
