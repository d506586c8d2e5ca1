#include "app/export/json_format.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QVariant>

#include <cmath>
#include <limits>
#include <optional>

#ifndef FM_EXPORT_APP_VERSION
#define FM_EXPORT_APP_VERSION "0.0.0"
#endif

namespace fm {
namespace {

// ---- Writing ---------------------------------------------------------------------------

QJsonValue optionalNumber(const std::optional<int>& value) {
    return value ? QJsonValue(*value) : QJsonValue(QJsonValue::Null);
}

// Local ids in creation order: the importer inserts in that order, which keeps sibling order
// (siblings are ordered by id) and "most recent branch" the same after import.
QHash<qint64, qint64> localIds(const ConversationArchive& archive) {
    QHash<qint64, qint64> localId;
    localId.reserve(archive.messages.size());
    for (const Message& m : archive.messages) {
        localId.insert(m.id, localId.size() + 1);
    }
    return localId;
}

QJsonObject messageToJson(const Message& m, const QHash<qint64, qint64>& localId) {
    QJsonObject json;
    json.insert(QLatin1String("id"), localId.value(m.id));
    json.insert(QLatin1String("parent"), m.parentId != 0 && localId.contains(m.parentId)
                                             ? QJsonValue(localId.value(m.parentId))
                                             : QJsonValue(QJsonValue::Null));
    json.insert(QLatin1String("role"), toText(m.role));
    json.insert(QLatin1String("content"), m.content);
    json.insert(QLatin1String("status"),
                toText(m.status == MessageStatus::Streaming ? MessageStatus::Interrupted : m.status));
    json.insert(QLatin1String("created_at"), m.createdAtMs);
    json.insert(QLatin1String("updated_at"), m.updatedAtMs);
    json.insert(QLatin1String("prompt_tokens"), optionalNumber(m.tokens.prompt));
    json.insert(QLatin1String("completion_tokens"), optionalNumber(m.tokens.completion));
    json.insert(QLatin1String("model"), m.model);
    json.insert(QLatin1String("settings"), m.settings.toJson());
    return json;
}

// A conversation without its messages.
QJsonObject conversationHeaderToJson(const ConversationArchive& archive, const QHash<qint64, qint64>& localId) {
    const Conversation& c = archive.conversation;
    QJsonObject json;
    json.insert(QLatin1String("title"), c.title);
    json.insert(QLatin1String("created_at"), c.createdAtMs);
    json.insert(QLatin1String("updated_at"), c.updatedAtMs);
    json.insert(QLatin1String("system_prompt"), c.options.systemPrompt);
    json.insert(QLatin1String("model"), c.options.model);
    json.insert(QLatin1String("mode"), toText(c.options.mode));
    json.insert(QLatin1String("settings"), c.options.settings.toJson());
    json.insert(QLatin1String("current_leaf"), localId.contains(c.currentLeafMessageId)
                                                   ? QJsonValue(localId.value(c.currentLeafMessageId))
                                                   : QJsonValue(QJsonValue::Null));
    return json;
}

// `object` as QJsonDocument::Indented writes it, nested `depth` levels deep, without the
// closing brace (the caller adds members first) and without a final newline.
QByteArray openIndentedObject(const QJsonObject& object, int depth) {
    QByteArray text = QJsonDocument(object).toJson(QJsonDocument::Indented);
    text.chop(2);  // "}\n"
    while (text.endsWith(' ') || text.endsWith('\n')) text.chop(1);
    text.replace("\n", "\n" + QByteArray(depth * 4, ' '));
    return text;
}

QByteArray indentedObject(const QJsonObject& object, int depth) {
    return openIndentedObject(object, depth) + "\n" + QByteArray(depth * 4, ' ') + "}";
}

// ---- Reading ---------------------------------------------------------------------------

constexpr qint64 kTimeMax = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z

// Every check reports the first problem as "path: what is wrong"; parsing stops there.

class Reader {
public:
    const QString& error() const { return error_; }
    bool failed() const { return !error_.isEmpty(); }

    bool fail(const QString& path, const QString& what) {
        if (error_.isEmpty()) {
            error_ = path.isEmpty() ? what : path + QStringLiteral(": ") + what;
        }
        return false;
    }

    // Fields outside `allowed` are refused: a misspelt "parnet" would otherwise silently
    // turn a reply into a new first-level message.
    bool onlyKnownFields(const QJsonObject& object, const QString& path, std::initializer_list<const char*> allowed) {
        for (auto it = object.begin(); it != object.end(); ++it) {
            bool known = false;
            for (const char* name : allowed) {
                known = known || it.key() == QLatin1String(name);
            }
            if (!known) {
                return fail(join(path, it.key()), QStringLiteral("unknown field"));
            }
        }
        return true;
    }

    std::optional<QString> string(const QJsonObject& object, const QString& path, const char* key,
                                  std::optional<QString> fallback = {}) {
        const QJsonValue value = object.value(QLatin1String(key));
        if (value.isUndefined() && fallback) {
            return fallback;
        }
        if (!value.isString()) {
            fail(join(path, key), expected("a string", value));
            return std::nullopt;
        }
        return value.toString();
    }

    // JSON numbers are doubles; an integer field must hold an exact integer in range.
    std::optional<qint64> integer(const QJsonValue& value, const QString& path, qint64 min, qint64 max) {
        std::optional<qint64> number;
        if (value.isDouble()) {
            const QVariant exact = value.toVariant();
            if (exact.typeId() == QMetaType::LongLong) {
                number = exact.toLongLong();
            }
        }
        if (!number) {
            fail(path, expected("an integer", value));
            return std::nullopt;
        }
        if (*number < min || *number > max) {
            fail(path, QStringLiteral("%1 is out of range (%2 to %3)").arg(*number).arg(min).arg(max));
            return std::nullopt;
        }
        return number;
    }

    std::optional<qint64> requiredInteger(const QJsonObject& object, const QString& path, const char* key, qint64 min,
                                          qint64 max) {
        return integer(object.value(QLatin1String(key)), join(path, key), min, max);
    }

    // "created_at" and "updated_at" (milliseconds since the epoch), both required.
    bool timestamps(const QJsonObject& object, const QString& path, qint64& created, qint64& updated) {
        const auto c = requiredInteger(object, path, "created_at", 0, kTimeMax);
        const auto u = c ? requiredInteger(object, path, "updated_at", 0, kTimeMax) : std::nullopt;
        if (!u) return false;
        created = *c;
        updated = *u;
        return true;
    }

    // Absent or null: "none" (the outer optional holds an empty inner one).
    std::optional<std::optional<qint64>> nullableInteger(const QJsonObject& object, const QString& path,
                                                         const char* key, qint64 min, qint64 max) {
        const QJsonValue value = object.value(QLatin1String(key));
        if (value.isUndefined() || value.isNull()) {
            return std::optional<qint64>{};
        }
        std::optional<qint64> number = integer(value, join(path, key), min, max);
        if (!number) {
            return std::nullopt;
        }
        return std::optional<qint64>(number);
    }

    std::optional<GenerationSettings> settings(const QJsonObject& object, const QString& path) {
        const QJsonValue value = object.value(QLatin1String("settings"));
        if (value.isUndefined() || value.isNull()) {
            return GenerationSettings{};
        }
        const QString here = join(path, "settings");
        if (!value.isObject()) {
            fail(here, expected("an object", value));
            return std::nullopt;
        }
        const QJsonObject json = value.toObject();
        if (const QStringList unknown = GenerationSettings::unknownJsonKeys(json); !unknown.isEmpty()) {
            fail(join(here, unknown.first()), QStringLiteral("unknown field"));
            return std::nullopt;
        }
        bool valid = true;
        GenerationSettings::forEachField([&](const char*, const char* key, auto member) {
            using T = typename std::remove_reference_t<decltype(GenerationSettings{}.*member)>::value_type;
            if (!valid) return;
            if constexpr (std::is_floating_point_v<T>) {
                const QJsonValue number = json.value(QLatin1String(key));
                valid =
                    number.isUndefined() || number.isDouble() || fail(join(here, key), expected("a number", number));
            } else {  // counts are never negative; a seed is any 64-bit integer
                constexpr qint64 min = std::is_same_v<T, qint64> ? std::numeric_limits<qint64>::min() : 0;
                valid = nullableInteger(json, here, key, min, std::numeric_limits<T>::max()).has_value();
            }
        });
        if (!valid) {
            return std::nullopt;
        }
        return GenerationSettings::fromJson(json);
    }

    static QString join(const QString& path, const QString& key) {
        return path.isEmpty() ? key : path + QLatin1Char('.') + key;
    }
    static QString join(const QString& path, const char* key) { return join(path, QString::fromLatin1(key)); }
    static QString at(const QString& path, qsizetype index) { return QStringLiteral("%1[%2]").arg(path).arg(index); }

    static QString expected(const char* what, const QJsonValue& got) {
        return QStringLiteral("expected %1, found %2").arg(QLatin1String(what), describe(got));
    }

    static QString describe(const QJsonValue& value) {
        switch (value.type()) {
        case QJsonValue::Undefined: return QStringLiteral("nothing (the field is missing)");
        case QJsonValue::Null: return QStringLiteral("null");
        case QJsonValue::Bool: return QStringLiteral("a boolean");
        case QJsonValue::Double: return QStringLiteral("the number %1").arg(value.toVariant().toString());
        case QJsonValue::String: return QStringLiteral("a string");
        case QJsonValue::Array: return QStringLiteral("an array");
        case QJsonValue::Object: return QStringLiteral("an object");
        }
        return QStringLiteral("something else");
    }

private:
    QString error_;
};

constexpr qint64 kIdMax = std::numeric_limits<qint64>::max();

std::optional<Message> readMessage(Reader& r, const QJsonValue& value, const QString& path) {
    if (!value.isObject()) {
        r.fail(path, Reader::expected("an object", value));
        return std::nullopt;
    }
    const QJsonObject json = value.toObject();
    if (!r.onlyKnownFields(json, path,
                           {"id", "parent", "role", "content", "status", "created_at", "updated_at", "prompt_tokens",
                            "completion_tokens", "model", "settings"})) {
        return std::nullopt;
    }
    Message m;
    const std::optional<qint64> id = r.requiredInteger(json, path, "id", 1, kIdMax);
    if (!id) {
        return std::nullopt;
    }
    m.id = *id;
    if (!json.contains(QLatin1String("parent"))) {
        r.fail(Reader::join(path, "parent"), QStringLiteral("missing (use null for a first-level message)"));
        return std::nullopt;
    }
    const auto parent = r.nullableInteger(json, path, "parent", 1, kIdMax);
    if (!parent) {
        return std::nullopt;
    }
    m.parentId = parent->value_or(0);

    const std::optional<QString> role = r.string(json, path, "role");
    if (!role) {
        return std::nullopt;
    }
    if (const auto known = messageRoleFromText(*role)) {
        m.role = *known;
    } else {
        r.fail(Reader::join(path, "role"),
               QStringLiteral("unknown role \"%1\" (expected system, user or assistant)").arg(*role));
        return std::nullopt;
    }
    const std::optional<QString> content = r.string(json, path, "content");
    if (!content) {
        return std::nullopt;
    }
    m.content = *content;
    const std::optional<QString> status = r.string(json, path, "status", QStringLiteral("complete"));
    if (!status) {
        return std::nullopt;
    }
    const auto known = messageStatusFromText(*status);
    // 'streaming' would show a reply that nothing is writing; exports never contain it.
    if (!known || *known == MessageStatus::Streaming) {
        r.fail(Reader::join(path, "status"),
               QStringLiteral("unknown status \"%1\" (expected complete, interrupted or error)").arg(*status));
        return std::nullopt;
    }
    m.status = *known;
    if (!r.timestamps(json, path, m.createdAtMs, m.updatedAtMs)) {
        return std::nullopt;
    }
    constexpr qint64 kIntMax = std::numeric_limits<int>::max();
    const auto prompt = r.nullableInteger(json, path, "prompt_tokens", 0, kIntMax);
    if (!prompt) {
        return std::nullopt;
    }
    const auto completion = r.nullableInteger(json, path, "completion_tokens", 0, kIntMax);
    if (!completion) {
        return std::nullopt;
    }
    if (*prompt) {
        m.tokens.prompt = int(**prompt);
    }
    if (*completion) {
        m.tokens.completion = int(**completion);
    }
    const std::optional<QString> model = r.string(json, path, "model", QString());
    if (!model) {
        return std::nullopt;
    }
    m.model = *model;
    const std::optional<GenerationSettings> settings = r.settings(json, path);
    if (!settings) {
        return std::nullopt;
    }
    m.settings = *settings;
    return m;
}

// Parent references must resolve within the conversation and lead to a first-level
// message: a cycle could never be inserted (each row needs its parent to exist first).
bool checkTree(Reader& r, const QList<Message>& messages, const QString& path) {
    QHash<qint64, qsizetype> index;
    for (qsizetype i = 0; i < messages.size(); ++i) {
        const QString here = Reader::at(path, i);
        if (index.contains(messages[i].id)) {
            return r.fail(Reader::join(here, "id"), QStringLiteral("duplicate id %1 (also %2)")
                                                        .arg(messages[i].id)
                                                        .arg(Reader::at(path, index.value(messages[i].id))));
        }
        index.insert(messages[i].id, i);
    }
    for (qsizetype i = 0; i < messages.size(); ++i) {
        const qint64 parent = messages[i].parentId;
        if (parent != 0 && !index.contains(parent)) {
            return r.fail(Reader::join(Reader::at(path, i), "parent"), QStringLiteral("unknown id %1").arg(parent));
        }
    }
    // 0: not visited, 1: on the current walk, 2: known to reach the first level.
    QList<int> state(messages.size(), 0);
    for (qsizetype start = 0; start < messages.size(); ++start) {
        QList<qsizetype> walk;
        qsizetype i = start;
        while (state[i] == 0) {
            state[i] = 1;
            walk.append(i);
            if (messages[i].parentId == 0) {
                break;
            }
            i = index.value(messages[i].parentId);
        }
        if (state[i] == 1 && messages[i].parentId != 0) {
            QStringList ids;
            for (qsizetype j = walk.indexOf(i); j < walk.size(); ++j) {
                ids.append(QString::number(messages[walk[j]].id));
            }
            ids.append(QString::number(messages[i].id));
            return r.fail(
                Reader::join(Reader::at(path, i), "parent"),
                QStringLiteral("the parent references form a cycle (%1)").arg(ids.join(QStringLiteral(" -> "))));
        }
        for (qsizetype j : walk) {
            state[j] = 2;
        }
    }
    return true;
}

std::optional<ConversationArchive> readConversation(Reader& r, const QJsonValue& value, const QString& path) {
    if (!value.isObject()) {
        r.fail(path, Reader::expected("an object", value));
        return std::nullopt;
    }
    const QJsonObject json = value.toObject();
    if (!r.onlyKnownFields(json, path,
                           {"title", "created_at", "updated_at", "system_prompt", "model", "mode", "settings",
                            "current_leaf", "messages"})) {
        return std::nullopt;
    }
    ConversationArchive archive;
    Conversation& c = archive.conversation;
    const std::optional<QString> title = r.string(json, path, "title");
    if (!title) {
        return std::nullopt;
    }
    c.title = *title;
    if (!r.timestamps(json, path, c.createdAtMs, c.updatedAtMs)) {
        return std::nullopt;
    }
    const std::optional<QString> systemPrompt = r.string(json, path, "system_prompt", QString());
    if (!systemPrompt) {
        return std::nullopt;
    }
    c.options.systemPrompt = *systemPrompt;
    const std::optional<QString> model = r.string(json, path, "model", QString());
    if (!model) {
        return std::nullopt;
    }
    c.options.model = *model;
    const std::optional<QString> mode = r.string(json, path, "mode", QStringLiteral("chat"));
    if (!mode) {
        return std::nullopt;
    }
    if (const auto known = conversationModeFromText(*mode)) {
        c.options.mode = *known;
    } else {
        r.fail(Reader::join(path, "mode"),
               QStringLiteral("unknown mode \"%1\" (expected chat or completion)").arg(*mode));
        return std::nullopt;
    }
    const std::optional<GenerationSettings> settings = r.settings(json, path);
    if (!settings) {
        return std::nullopt;
    }
    c.options.settings = *settings;

    const QString messagesPath = Reader::join(path, "messages");
    const QJsonValue messages = json.value(QLatin1String("messages"));
    if (!messages.isArray()) {
        r.fail(messagesPath, Reader::expected("an array", messages));
        return std::nullopt;
    }
    const QJsonArray array = messages.toArray();
    for (qsizetype i = 0; i < array.size(); ++i) {
        std::optional<Message> m = readMessage(r, array[i], Reader::at(messagesPath, i));
        if (!m) {
            return std::nullopt;
        }
        archive.messages.append(*m);
    }
    if (!checkTree(r, archive.messages, messagesPath)) {
        return std::nullopt;
    }
    const auto leaf = r.nullableInteger(json, path, "current_leaf", 1, kIdMax);
    if (!leaf) {
        return std::nullopt;
    }
    c.currentLeafMessageId = leaf->value_or(0);
    if (c.currentLeafMessageId != 0) {
        bool found = false;
        for (const Message& m : archive.messages) {
            found = found || m.id == c.currentLeafMessageId;
        }
        if (!found) {
            r.fail(Reader::join(path, "current_leaf"), QStringLiteral("unknown id %1").arg(c.currentLeafMessageId));
            return std::nullopt;
        }
    }
    return archive;
}

}  // namespace

void writeJson(const QList<ConversationArchive>& conversations, qint64 exportedAtMs, const ByteSink& sink) {
    // About a megabyte at a time, each message serialized on its own: memory follows the largest
    // message, not the conversation.
    QByteArray out;
    const auto put = [&](const QByteArray& text) {
        out += text;
        if (out.size() >= (1 << 20)) {
            sink(out);
            out.clear();
        }
    };
    QJsonObject root;
    root.insert(QLatin1String("format"), QLatin1String(kExportFormatName));
    root.insert(QLatin1String("version"), kExportFormatVersion);
    root.insert(QLatin1String("generator"), QStringLiteral("Falcon Mamba Chat " FM_EXPORT_APP_VERSION));
    root.insert(QLatin1String("exported_at"), exportedAtMs);
    put(openIndentedObject(root, 0) + ",\n    \"conversations\": [");
    for (qsizetype n = 0; n < conversations.size(); ++n) {
        const ConversationArchive& archive = conversations[n];
        const QHash<qint64, qint64> localId = localIds(archive);
        put(QByteArray(n == 0 ? "\n        " : ",\n        ") +
            openIndentedObject(conversationHeaderToJson(archive, localId), 2) + ",\n            \"messages\": [");
        for (qsizetype i = 0; i < archive.messages.size(); ++i) {
            put(QByteArray(i == 0 ? "\n                " : ",\n                ") +
                indentedObject(messageToJson(archive.messages[i], localId), 4));
        }
        put("\n            ]\n        }");
    }
    put("\n    ]\n}\n");
    if (!out.isEmpty()) sink(out);
}

QByteArray conversationsToJson(const QList<ConversationArchive>& conversations, qint64 exportedAtMs) {
    QByteArray json;
    writeJson(conversations, exportedAtMs, [&](const QByteArray& piece) { json += piece; });
    return json;
}

Result<QList<ConversationArchive>> conversationsFromJson(const QByteArray& document) {
    if (document.trimmed().isEmpty()) {
        return toError(QStringLiteral("the file is empty"));
    }
    QJsonParseError parseError;
    const QJsonDocument json = QJsonDocument::fromJson(document, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        return toError(QStringLiteral("not valid JSON: %1 at byte %2%3")
                           .arg(parseError.errorString())
                           .arg(parseError.offset)
                           .arg(parseError.offset >= document.size() - 1 ? QStringLiteral(" (the file looks truncated)")
                                                                         : QString()));
    }
    Reader r;
    if (!json.isObject()) {
        return toError(
            QStringLiteral("the document is not a JSON object, so not a Falcon Mamba "
                           "Chat export (expected an object with \"format\")"));
    }
    const QJsonObject root = json.object();
    const QJsonValue format = root.value(QLatin1String("format"));
    if (format.toString() != QLatin1String(kExportFormatName)) {
        return toError(QStringLiteral("format: expected \"%1\", found %2: this is not a Falcon "
                                      "Mamba Chat conversation export")
                           .arg(QLatin1String(kExportFormatName), format.isString()
                                                                      ? QStringLiteral("\"%1\"").arg(format.toString())
                                                                      : Reader::describe(format)));
    }
    // The version is checked before the other fields: a newer file is refused as newer,
    // not for whatever field it added.
    const std::optional<qint64> version = r.requiredInteger(
        root, QString(), "version", std::numeric_limits<qint64>::min(), std::numeric_limits<qint64>::max());
    if (!version) {
        return toError(r.error());
    }
    if (*version > kExportFormatVersion) {
        return toError(QStringLiteral("version: the file is format version %1, newer than this "
                                      "version of Falcon Mamba Chat understands (up to %2); "
                                      "update the app to import it")
                           .arg(*version)
                           .arg(kExportFormatVersion));
    }
    if (*version < 1) {
        return toError(QStringLiteral("version: %1 is not a known format version").arg(*version));
    }
    if (!r.onlyKnownFields(root, QString(), {"format", "version", "generator", "exported_at", "conversations"})) {
        return toError(r.error());
    }
    const QJsonValue generator = root.value(QLatin1String("generator"));
    if (!generator.isUndefined() && !generator.isString()) {
        r.fail(QStringLiteral("generator"), Reader::expected("a string", generator));
        return toError(r.error());
    }
    if (!r.nullableInteger(root, QString(), "exported_at", 0, kTimeMax)) {
        return toError(r.error());
    }
    const QJsonValue conversations = root.value(QLatin1String("conversations"));
    if (!conversations.isArray()) {
        r.fail(QStringLiteral("conversations"), Reader::expected("an array", conversations));
        return toError(r.error());
    }
    QList<ConversationArchive> archives;
    const QJsonArray array = conversations.toArray();
    for (qsizetype i = 0; i < array.size(); ++i) {
        std::optional<ConversationArchive> archive =
            readConversation(r, array[i], Reader::at(QStringLiteral("conversations"), i));
        if (!archive) {
            return toError(r.error());
        }
        archives.append(*archive);
    }
    return archives;
}

}  // namespace fm
