#pragma once
// Plain data exchanged with the conversation store. No Qt object machinery: these structs
// are cheap to copy across threads (load on a worker, hand the result to the GUI thread).
// Ids are SQLite rowids; 0 means "none". Times are milliseconds since the Unix epoch, UTC.

#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVariantMap>

#include <optional>

class QSqlQuery;

namespace fm {

enum class ConversationMode { Chat, Completion };
enum class MessageRole { System, User, Assistant };
enum class MessageStatus { Complete, Streaming, Interrupted, Error };

// Database spelling of the enums ('chat', 'user', 'streaming', ...); also what QML sees. Not named
// toString: QTest finds toString() by argument-dependent lookup and expects char*.
QString toText(ConversationMode mode);
QString toText(MessageRole role);
QString toText(MessageStatus status);
std::optional<ConversationMode> conversationModeFromText(const QString& text);
std::optional<MessageRole> messageRoleFromText(const QString& text);
std::optional<MessageStatus> messageStatusFromText(const QString& text);

// Sampling settings. Every field is optional: unset means "use the app default", so
// changing a default later also changes conversations that never overrode it. All unset
// is stored as SQL NULL.
struct GenerationSettings {
    std::optional<double> temperature;
    std::optional<double> topP;
    std::optional<int> topK;
    std::optional<double> minP;
    std::optional<double> repeatPenalty;
    std::optional<int> maxNewTokens;
    std::optional<qint64> seed;

    // The one list of the fields, for everything that goes over all of them (JSON, what QML
    // reads and writes, the defaults): calls f(name, jsonKey, member) for each field, `name`
    // as QML and C++ spell it, `jsonKey` as the engine's sampler options do.
    template <typename F>
    static void forEachField(F&& f) {
        f("temperature", "temperature", &GenerationSettings::temperature);
        f("topP", "top_p", &GenerationSettings::topP);
        f("topK", "top_k", &GenerationSettings::topK);
        f("minP", "min_p", &GenerationSettings::minP);
        f("repeatPenalty", "repeat_penalty", &GenerationSettings::repeatPenalty);
        f("maxNewTokens", "max_new_tokens", &GenerationSettings::maxNewTokens);
        f("seed", "seed", &GenerationSettings::seed);
    }

    bool isDefault() const;
    // These settings with every value that `over` sets replaced by it.
    GenerationSettings overlaidWith(const GenerationSettings& over) const;
    // JSON keys are snake_case, matching the engine's sampler options.
    QJsonObject toJson() const;
    static GenerationSettings fromJson(const QJsonObject& json);
    // The keys of `json` that are no field's JSON key, in the object's order.
    static QStringList unknownJsonKeys(const QJsonObject& json);
    // Compact JSON text, or an empty string when isDefault().
    QString toJsonText() const;
    static GenerationSettings fromJsonText(const QString& text);
    // {temperature: 0.7, topK: 40, ...}: the values that are set, by name, as QML sees them.
    QVariantMap toVariantMap() const;
    // Keys that are not a field's name, or values that do not convert, are left unset.
    static GenerationSettings fromVariantMap(const QVariantMap& map);

    bool operator==(const GenerationSettings&) const = default;
};

// Per-conversation options the user can change at any time.
struct ConversationOptions {
    QString systemPrompt;
    GenerationSettings settings;
    QString model;  // path or id of the model last used; empty = the app's current model
    ConversationMode mode = ConversationMode::Chat;

    bool operator==(const ConversationOptions&) const = default;
};

struct Conversation {
    qint64 id = 0;
    QString title;
    qint64 createdAtMs = 0;
    qint64 updatedAtMs = 0;  // last activity: creation or the latest message written
    ConversationOptions options;
    qint64 currentLeafMessageId = 0;    // end of the branch on screen; 0 when empty
    std::optional<qint64> deletedAtMs;  // set while soft-deleted (undo possible)

    bool isDeleted() const { return deletedAtMs.has_value(); }
};

struct TokenCounts {
    std::optional<int> prompt;
    std::optional<int> completion;

    bool operator==(const TokenCounts&) const = default;
};

struct Message {
    qint64 id = 0;
    qint64 conversationId = 0;
    qint64 parentId = 0;  // 0 for a first-level message
    MessageRole role = MessageRole::User;
    QString content;
    qint64 createdAtMs = 0;
    qint64 updatedAtMs = 0;
    MessageStatus status = MessageStatus::Complete;
    TokenCounts tokens;
    QString model;                // which model wrote it (assistant messages)
    GenerationSettings settings;  // settings it was generated with (assistant messages)
};

// A message on the visible branch, with its place among its siblings (for "< 2/3 >").
struct BranchMessage {
    Message message;
    int siblingIndex = 0;  // 0-based, siblings ordered by id (creation)
    int siblingCount = 1;
};

struct NewMessage {
    MessageRole role = MessageRole::User;
    QString content;
    // Where to attach: 0 = after the conversation's current leaf (the usual append).
    qint64 parentId = 0;
    MessageStatus status = MessageStatus::Complete;
    TokenCounts tokens;
    QString model;
    GenerationSettings settings;
};

struct SearchHit {
    qint64 conversationId = 0;
    QString title;
    qint64 updatedAtMs = 0;
    QString model;
    ConversationMode mode = ConversationMode::Chat;
    // HTML-escaped excerpt with the matched words in <b>...</b>, safe for Text.StyledText.
    // From the conversation's latest matching message, or the title when only it matched.
    QString snippet;
    qint64 messageId = 0;  // the message the snippet comes from; 0 when only the title matched
    bool titleMatched = false;
};

struct StateSnapshot {
    qint64 id = 0;
    qint64 conversationId = 0;
    qint64 messageId = 0;
    QString kind;
    QString fingerprint;
    QString filePath;
    qint64 byteSize = 0;
    QString checksum;
    qint64 tokenCount = 0;
    qint64 createdAtMs = 0;
};

// The state_snapshots columns in the order stateSnapshotFromRow reads them, qualified by the
// table alias `s` (SELECT ... FROM state_snapshots AS s).
extern const QString kStateSnapshotColumns;
StateSnapshot stateSnapshotFromRow(const QSqlQuery& query);

}  // namespace fm

Q_DECLARE_METATYPE(fm::MessageStatus)
