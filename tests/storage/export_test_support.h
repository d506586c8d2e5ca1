#pragma once
// Shared by the export tests: databases with conversations of every shape (branches, unicode,
// empty texts, interrupted replies, custom settings), built through the store on a fake clock,
// and a full dump of a database for before/after comparisons.

#include "app/export/conversation_archive.h"
#include "app/storage/conversation_store.h"
#include "app/storage/database.h"

#include <QSqlQuery>
#include <QSqlRecord>
#include <QStringList>
#include <QTest>

#include <limits>
#include <memory>

namespace fm::exporttest {

inline constexpr qint64 kStartMs = 1'750'000'000'000;

// An open database with a store whose clock advances one second per write.
struct TestDb {
    Database db;
    std::unique_ptr<ConversationStore> store;
    qint64 clock = kStartMs;

    bool open(const QString& path) {
        if (!db.open(path)) return false;
        store = std::make_unique<ConversationStore>(db);
        store->setClock([this] { return clock += 1000; });
        return true;
    }
};

inline NewMessage newMessage(MessageRole role, const QString& text) {
    NewMessage m;
    m.role = role;
    m.content = text;
    return m;
}

// A reply generated the way the app does it: begin, stream, settle.
inline qint64 reply(ConversationStore& store, qint64 conversation, qint64 parent, const QString& text,
                    MessageStatus status = MessageStatus::Complete, const TokenCounts& tokens = {},
                    const QString& model = {}, const GenerationSettings& settings = {}) {
    Result<Message> begun = store.beginAssistantMessage(conversation, parent, model, settings);
    if (!begun) return 0;
    if (!store.updateStreamingContent(begun->id, text.left(text.size() / 2))) return 0;
    if (!store.finishMessage(begun->id, status, tokens, text)) return 0;
    return begun->id;
}

inline qint64 ask(ConversationStore& store, qint64 conversation, const QString& text, qint64 parent = 0) {
    NewMessage m = newMessage(MessageRole::User, text);
    m.parentId = parent;
    Result<Message> added = store.appendMessage(conversation, m);
    return added ? added->id : 0;
}

inline QStringList scenarioNames() {
    return {"linear", "branches", "unicode", "empty texts", "no messages", "interrupted", "custom settings"};
}

// Builds the named conversation; returns its id (0 on failure).
inline qint64 buildScenario(ConversationStore& store, const QString& name) {
    ConversationOptions options;
    if (name == "custom settings") {
        options.systemPrompt = QStringLiteral("Answer in French.\nBe brief.\n\n  Indented line.");
        options.model = QStringLiteral("/opt/models/falcon-mamba-7b-instruct-4bit");
        options.mode = ConversationMode::Completion;
        options.settings.temperature = 0.35;
        options.settings.topP = 0.875;
        options.settings.topK = 17;
        options.settings.minP = 0.025;
        options.settings.repeatPenalty = 1.15;
        options.settings.maxNewTokens = 1234;
        options.settings.seed = 4'611'686'018'427'387'905;  // 2^62 + 1: not exact as a double
    }
    QString title = name == "unicode" ? QStringLiteral("Ünïcödé 🦅 — 日本語 · עברית · e\u0301")
                                      : QStringLiteral("Scenario: ") + name;
    if (name == "empty texts") title.clear();
    Result<Conversation> c = store.createConversation(title, options);
    if (!c) return 0;
    const qint64 id = c->id;

    if (name == "linear") {
        const qint64 q = ask(store, id, QStringLiteral("What is Falcon Mamba?"));
        const qint64 a = reply(store, id, q, QStringLiteral("A 7B state-space language model."),
                               MessageStatus::Complete, {12, 9}, QStringLiteral("/models/falcon-mamba-7b"));
        const qint64 q2 = ask(store, id, QStringLiteral("And its context length?"), a);
        reply(store, id, q2, QStringLiteral("Unbounded in principle: the state has a fixed size."));
    } else if (name == "branches") {
        const qint64 q = ask(store, id, QStringLiteral("Write a haiku."));
        const qint64 a1 = reply(store, id, q, QStringLiteral("First haiku"));
        const qint64 a2 = reply(store, id, q, QStringLiteral("Second haiku (regenerated)"));
        const qint64 q2 = ask(store, id, QStringLiteral("Another one"), a2);
        reply(store, id, q2, QStringLiteral("Third haiku"));
        Result<Message> edited = store.editMessage(q2, QStringLiteral("Another one, about rivers"));
        if (!edited) return 0;
        reply(store, id, edited->id, QStringLiteral("River haiku"));
        reply(store, id, edited->id, QStringLiteral("River haiku, take two"));
        const qint64 q3 = ask(store, id, QStringLiteral("Explain the first"), a1);
        reply(store, id, q3, QStringLiteral("It is about spring."));
        // The branch on screen is an older one, and not the latest leaf: the export must keep that.
        if (!store.switchToBranch(a1)) return 0;
        if (!store.switchToBranch(q3)) return 0;
    } else if (name == "unicode") {
        const qint64 q = ask(
            store, id,
            QStringLiteral("Emoji 🦅🐍👩‍💻, CJK 日本語, RTL עברית ومرحبا, combining e\u0301, "
                           "quotes \"'` \\ backslash, tab\there, CRLF\r\nline, "
                           "U+2028\u2028, control \u0001, BOM \uFEFF, astral 𝔘𝔫𝔦"));
        reply(store, id, q, QStringLiteral("Ответ по-русски. Ελληνικά. 中文回答。 {\"json\": [1, 2]} </script>"));
    } else if (name == "empty texts") {
        const qint64 q = ask(store, id, QString());
        const qint64 a = reply(store, id, q, QString());
        ask(store, id, QStringLiteral("   "), a);
    } else if (name == "interrupted") {
        const qint64 q = ask(store, id, QStringLiteral("Tell me a long story"));
        reply(store, id, q, QStringLiteral("Once upon a time"), MessageStatus::Interrupted, {40, std::nullopt});
        reply(store, id, q, QStringLiteral("The backend failed"), MessageStatus::Error, {std::nullopt, 3});
        const qint64 again = reply(store, id, q, QStringLiteral("Once upon a time, a falcon"),
                                   MessageStatus::Interrupted, {40, 7}, QStringLiteral("falcon-mamba-7b"));
        if (!store.switchToBranch(again)) return 0;
    } else if (name == "custom settings") {
        const qint64 q = ask(store, id, QStringLiteral("Bonjour"));
        GenerationSettings used;
        used.temperature = 1.0;
        used.topK = 0;
        used.seed = -7;
        used.maxNewTokens = std::numeric_limits<int>::max();
        reply(store, id, q, QStringLiteral("Bonjour !"), MessageStatus::Complete, {0, 2147483647},
              QStringLiteral("C:\\models\\falcon"), used);
    }
    return id;
}

// Every row of every table (search index and its shadow tables included) and the schema
// version, as sorted text: equal dumps mean nothing was changed.
// A conversation in memory (no database): one linear branch of `contents`, user and
// assistant taking turns, the last message current.
inline ConversationArchive linearArchive(const QString& title, const QStringList& contents) {
    ConversationArchive a;
    a.conversation.title = title;
    a.conversation.createdAtMs = a.conversation.updatedAtMs = kStartMs;
    for (qsizetype i = 0; i < contents.size(); ++i) {
        Message m;
        m.id = i + 1;
        m.parentId = i;
        m.role = i % 2 == 0 ? MessageRole::User : MessageRole::Assistant;
        m.content = contents[i];
        a.messages.append(m);
    }
    a.conversation.currentLeafMessageId = contents.size();
    return a;
}

inline QStringList dumpDatabase(Database& db) {
    QStringList rows;
    Result<QVariant> version = db.scalar(QStringLiteral("PRAGMA user_version"));
    rows.append(QStringLiteral("user_version=%1").arg(version ? version->toString() : QStringLiteral("?")));
    QStringList tables;
    {
        Result<QSqlQuery> q =
            db.exec(QStringLiteral("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"));
        if (!q) return {QStringLiteral("dump failed: ") + errorText(q)};
        while (q->next()) tables.append(q->value(0).toString());
    }
    for (const QString& table : tables) {
        Result<QSqlQuery> q = db.exec(QStringLiteral("SELECT * FROM \"%1\"").arg(table));
        if (!q) return {QStringLiteral("dump of %1 failed: ").arg(table) + errorText(q)};
        while (q->next()) {
            QStringList values;
            for (int i = 0; i < q->record().count(); ++i) {
                const QVariant v = q->value(i);
                values.append(v.isNull()                            ? QStringLiteral("NULL")
                              : v.typeId() == QMetaType::QByteArray ? QString::fromLatin1(v.toByteArray().toHex())
                                                                    : v.toString());
            }
            rows.append(table + QLatin1Char('|') + values.join(QChar(0x1f)));
        }
    }
    rows.sort();
    return rows;
}

inline qsizetype indexOfId(const QList<Message>& messages, qint64 id) {
    for (qsizetype i = 0; i < messages.size(); ++i)
        if (messages[i].id == id) return i;
    return -1;
}

// Same conversation up to ids: every field of the conversation and of each message, the tree
// shape (parents by position), and which message is the current leaf. Check
// QTest::currentTestFailed() after calling.
inline void compareArchives(const ConversationArchive& expected, const ConversationArchive& actual) {
    const Conversation& e = expected.conversation;
    const Conversation& a = actual.conversation;
    QCOMPARE(a.title, e.title);
    QCOMPARE(a.createdAtMs, e.createdAtMs);
    QCOMPARE(a.updatedAtMs, e.updatedAtMs);
    QCOMPARE(a.options.systemPrompt, e.options.systemPrompt);
    QCOMPARE(a.options.model, e.options.model);
    QVERIFY(a.options.mode == e.options.mode);
    QVERIFY(a.options.settings == e.options.settings);
    QCOMPARE(a.deletedAtMs.has_value(), false);
    QCOMPARE(indexOfId(actual.messages, a.currentLeafMessageId), indexOfId(expected.messages, e.currentLeafMessageId));
    QCOMPARE(a.currentLeafMessageId == 0, e.currentLeafMessageId == 0);

    QCOMPARE(actual.messages.size(), expected.messages.size());
    for (qsizetype i = 0; i < expected.messages.size(); ++i) {
        const Message& em = expected.messages[i];
        const Message& am = actual.messages[i];
        const QByteArray where = QByteArray("message ") + QByteArray::number(i);
        QVERIFY2(am.role == em.role, where);
        QCOMPARE(am.content, em.content);
        QCOMPARE(am.content.isEmpty(), em.content.isEmpty());
        QCOMPARE(am.createdAtMs, em.createdAtMs);
        QCOMPARE(am.updatedAtMs, em.updatedAtMs);
        // A reply still streaming at export time comes back interrupted (nothing will finish it).
        const MessageStatus expectedStatus =
            em.status == MessageStatus::Streaming ? MessageStatus::Interrupted : em.status;
        QVERIFY2(am.status == expectedStatus, where);
        QVERIFY2(am.tokens == em.tokens, where);
        QCOMPARE(am.model, em.model);
        QVERIFY2(am.settings == em.settings, where);
        QCOMPARE(indexOfId(actual.messages, am.parentId), indexOfId(expected.messages, em.parentId));
        QCOMPARE(am.parentId == 0, em.parentId == 0);
        QCOMPARE(am.conversationId, a.id);
    }
}

}  // namespace fm::exporttest
