#include "app/storage/storage_types.h"

#include <QJsonDocument>
#include <QSqlQuery>
#include <QVariant>

namespace fm {
namespace {

template <typename Enum, std::size_t N>
std::optional<Enum> lookup(const QString& text, const std::pair<Enum, const char*> (&table)[N]) {
    for (const auto& [value, name] : table) {
        if (text == QLatin1String(name)) {
            return value;
        }
    }
    return std::nullopt;
}

template <typename Enum, std::size_t N>
QString name(Enum value, const std::pair<Enum, const char*> (&table)[N]) {
    for (const auto& [candidate, text] : table) {
        if (candidate == value) {
            return QLatin1String(text);
        }
    }
    return {};
}

constexpr std::pair<ConversationMode, const char*> kModes[] = {
    {ConversationMode::Chat, "chat"},
    {ConversationMode::Completion, "completion"},
};
constexpr std::pair<MessageRole, const char*> kRoles[] = {
    {MessageRole::System, "system"},
    {MessageRole::User, "user"},
    {MessageRole::Assistant, "assistant"},
};
constexpr std::pair<MessageStatus, const char*> kStatuses[] = {
    {MessageStatus::Complete, "complete"},
    {MessageStatus::Streaming, "streaming"},
    {MessageStatus::Interrupted, "interrupted"},
    {MessageStatus::Error, "error"},
};

template <typename T>
void put(QJsonObject& json, const char* key, const std::optional<T>& value) {
    if (value) {
        json.insert(QLatin1String(key), QJsonValue(*value));
    }
}

std::optional<double> getDouble(const QJsonObject& json, const char* key) {
    const QJsonValue value = json.value(QLatin1String(key));
    return value.isDouble() ? std::optional<double>(value.toDouble()) : std::nullopt;
}

std::optional<qint64> getInteger(const QJsonObject& json, const char* key) {
    const QJsonValue value = json.value(QLatin1String(key));
    return value.isDouble() ? std::optional<qint64>(value.toInteger()) : std::nullopt;
}

std::optional<int> getInt(const QJsonObject& json, const char* key) {
    const std::optional<qint64> value = getInteger(json, key);
    return value ? std::optional<int>(int(*value)) : std::nullopt;
}

}  // namespace

QString toText(ConversationMode mode) {
    return name(mode, kModes);
}
QString toText(MessageRole role) {
    return name(role, kRoles);
}
QString toText(MessageStatus status) {
    return name(status, kStatuses);
}

std::optional<ConversationMode> conversationModeFromText(const QString& text) {
    return lookup(text, kModes);
}
std::optional<MessageRole> messageRoleFromText(const QString& text) {
    return lookup(text, kRoles);
}
std::optional<MessageStatus> messageStatusFromText(const QString& text) {
    return lookup(text, kStatuses);
}

bool GenerationSettings::isDefault() const {
    return *this == GenerationSettings{};
}

QJsonObject GenerationSettings::toJson() const {
    QJsonObject json;
    put(json, "temperature", temperature);
    put(json, "top_p", topP);
    put(json, "top_k", topK);
    put(json, "min_p", minP);
    put(json, "repeat_penalty", repeatPenalty);
    put(json, "max_new_tokens", maxNewTokens);
    put(json, "seed", seed);
    return json;
}

GenerationSettings GenerationSettings::fromJson(const QJsonObject& json) {
    GenerationSettings settings;
    settings.temperature = getDouble(json, "temperature");
    settings.topP = getDouble(json, "top_p");
    settings.topK = getInt(json, "top_k");
    settings.minP = getDouble(json, "min_p");
    settings.repeatPenalty = getDouble(json, "repeat_penalty");
    settings.maxNewTokens = getInt(json, "max_new_tokens");
    settings.seed = getInteger(json, "seed");
    return settings;
}

QString GenerationSettings::toJsonText() const {
    if (isDefault()) {
        return {};
    }
    return QString::fromUtf8(QJsonDocument(toJson()).toJson(QJsonDocument::Compact));
}

GenerationSettings GenerationSettings::fromJsonText(const QString& text) {
    if (text.isEmpty()) {
        return {};
    }
    // Unknown keys (from a newer app) are ignored rather than failing the whole load.
    return fromJson(QJsonDocument::fromJson(text.toUtf8()).object());
}

const QString kStateSnapshotColumns = QStringLiteral(
    "s.id, s.conversation_id, s.message_id, s.kind, s.fingerprint, s.file_path, s.byte_size, "
    "s.checksum, s.token_count, s.created_at");

StateSnapshot stateSnapshotFromRow(const QSqlQuery& q) {
    StateSnapshot s;
    s.id = q.value(0).toLongLong();
    s.conversationId = q.value(1).toLongLong();
    s.messageId = q.value(2).toLongLong();
    s.kind = q.value(3).toString();
    s.fingerprint = q.value(4).toString();
    s.filePath = q.value(5).toString();
    s.byteSize = q.value(6).toLongLong();
    s.checksum = q.value(7).toString();
    s.tokenCount = q.value(8).toLongLong();
    s.createdAtMs = q.value(9).toLongLong();
    return s;
}

}  // namespace fm
