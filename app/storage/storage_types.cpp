#include "app/storage/storage_types.h"

#include <QJsonDocument>
#include <QSqlQuery>
#include <QVariant>

#include <type_traits>

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
std::optional<T> fromJsonValue(const QJsonValue& value) {
    if (!value.isDouble()) return std::nullopt;
    if constexpr (std::is_floating_point_v<T>) {
        return value.toDouble();
    } else {
        return T(value.toInteger());
    }
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

GenerationSettings GenerationSettings::overlaidWith(const GenerationSettings& over) const {
    GenerationSettings merged = *this;
    forEachField([&](const char*, const char*, auto member) {
        if (over.*member) merged.*member = over.*member;
    });
    return merged;
}

QJsonObject GenerationSettings::toJson() const {
    QJsonObject json;
    forEachField([&](const char*, const char* key, auto member) {
        if (this->*member) json.insert(QLatin1String(key), QJsonValue(*(this->*member)));
    });
    return json;
}

GenerationSettings GenerationSettings::fromJson(const QJsonObject& json) {
    GenerationSettings settings;
    forEachField([&](const char*, const char* key, auto member) {
        using T = typename std::remove_reference_t<decltype(settings.*member)>::value_type;
        settings.*member = fromJsonValue<T>(json.value(QLatin1String(key)));
    });
    return settings;
}

QStringList GenerationSettings::unknownJsonKeys(const QJsonObject& json) {
    QStringList unknown = json.keys();
    forEachField([&](const char*, const char* key, auto) { unknown.removeAll(QLatin1String(key)); });
    return unknown;
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

QVariantMap GenerationSettings::toVariantMap() const {
    QVariantMap map;
    forEachField([&](const char* name, const char*, auto member) {
        if (this->*member) map.insert(QLatin1String(name), QVariant::fromValue(*(this->*member)));
    });
    return map;
}

GenerationSettings GenerationSettings::fromVariantMap(const QVariantMap& map) {
    GenerationSettings settings;
    forEachField([&](const char* name, const char*, auto member) {
        using T = typename std::remove_reference_t<decltype(settings.*member)>::value_type;
        const QVariant value = map.value(QLatin1String(name));
        if (value.isValid() && value.canConvert<T>()) settings.*member = value.value<T>();
    });
    return settings;
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
