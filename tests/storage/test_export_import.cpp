// Export and import of conversations: JSON round trips that keep every field (branches,
// unicode, empty texts, interrupted replies, custom settings), the committed v1 fixture,
// refusal of defective files with the database left exactly as it was, all-or-nothing
// writes, the CLI commands and the QML controller's worker jobs.

#include "app/cli/cli.h"
#include "app/export/export_controller.h"
#include "app/export/exporter.h"
#include "app/export/importer.h"
#include "app/export/json_format.h"
#include "tests/storage/export_test_support.h"
#include "tests/storage/storage_test_support.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <sstream>

using namespace fm;
using namespace fm::exporttest;

namespace fm {
// Lets QCOMPARE print the enums (found by argument-dependent lookup).
char* toString(MessageStatus status) {
    return qstrdup(qPrintable(toText(status)));
}
}  // namespace fm

namespace {

const QString kFixture = QStringLiteral(FM_TEST_DATA_DIR "/export/conversations-v1.json");

QByteArray readFile(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeFile(const QString& path, const QByteArray& bytes) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(bytes) == bytes.size();
}

// The "conversations" of an export, without the informational exported_at.
QJsonValue conversationsOf(const QByteArray& json) {
    return QJsonDocument::fromJson(json).object().value(QStringLiteral("conversations"));
}

// "conversations[0].messages[3].parent" -> {"conversations", 0, "messages", 3, "parent"}
QVariantList splitPath(const QString& path) {
    QVariantList tokens;
    for (const QString& part : path.split(QLatin1Char('.'))) {
        const qsizetype bracket = part.indexOf(QLatin1Char('['));
        tokens.append(part.left(bracket < 0 ? part.size() : bracket));
        if (bracket >= 0) tokens.append(part.mid(bracket + 1).chopped(1).toInt());
    }
    return tokens;
}

// Sets (or with an undefined value, removes) the value at `tokens` inside `node`.
QJsonValue edited(const QJsonValue& node, QVariantList tokens, const QJsonValue& value) {
    const QVariant key = tokens.takeFirst();
    if (key.typeId() == QMetaType::Int) {
        QJsonArray array = node.toArray();
        const int i = key.toInt();
        if (tokens.isEmpty()) {
            if (value.isUndefined())
                array.removeAt(i);
            else
                array.replace(i, value);
        } else {
            array.replace(i, edited(array.at(i), tokens, value));
        }
        return array;
    }
    QJsonObject object = node.toObject();
    if (tokens.isEmpty()) {
        if (value.isUndefined())
            object.remove(key.toString());
        else
            object.insert(key.toString(), value);
    } else {
        object.insert(key.toString(), edited(object.value(key.toString()), tokens, value));
    }
    return object;
}

struct CliRun {
    int code = 0;
    QString out, err;
};

CliRun runCli(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    std::istringstream in;
    CliRun r;
    r.code = fm::cli::run_cli(args, out, err, in);
    r.out = QString::fromStdString(out.str());
    r.err = QString::fromStdString(err.str());
    return r;
}

}  // namespace

class TestExportImport : public QObject {
    Q_OBJECT

private:
    fm::testing::ScratchFolder scratch_;
    QString path(const QString& name) const { return scratch_.path(name); }

private slots:
    void init() { QVERIFY(scratch_.reset()); }

    void roundTripKeepsEveryField_data() {
        QTest::addColumn<QString>("scenario");
        for (const QString& name : scenarioNames()) QTest::newRow(qPrintable(name)) << name;
    }
    void roundTripKeepsEveryField() {
        QFETCH(QString, scenario);
        TestDb source;
        QVERIFY(source.open(path("source.sqlite")));
        const qint64 id = buildScenario(*source.store, scenario);
        QVERIFY(id > 0);
        // Decoys around it: the export must hold exactly the one conversation asked for.
        buildScenario(*source.store, QStringLiteral("linear"));

        Result<ExportSummary> exported = exportConversations(source.db, id, ExportFormat::Json, path("one.json"));
        QVERIFY2(exported, exported.error().c_str());
        QCOMPARE(exported->conversationCount, 1);

        TestDb target;
        QVERIFY(target.open(path("target.sqlite")));
        buildScenario(*target.store, QStringLiteral("branches"));  // ids in use: the import gets new ones
        Result<ImportSummary> imported = importConversationsFile(target.db, path("one.json"));
        QVERIFY2(imported, imported.error().c_str());
        QCOMPARE(imported->conversationIds.size(), 1);

        Result<ConversationArchive> before = loadConversationArchive(source.db, id);
        Result<ConversationArchive> after = loadConversationArchive(target.db, imported->conversationIds[0]);
        QVERIFY(before && after);
        QCOMPARE(imported->messageCount, int(before->messages.size()));
        compareArchives(*before, *after);
        if (QTest::currentTestFailed()) return;

        // What the window shows: the same branch with the same "< n/m >" positions.
        Result<QList<BranchMessage>> shownBefore = source.store->pathToLeaf(id);
        Result<QList<BranchMessage>> shownAfter = target.store->pathToLeaf(imported->conversationIds[0]);
        QVERIFY(shownBefore && shownAfter);
        QCOMPARE(shownAfter->size(), shownBefore->size());
        for (qsizetype i = 0; i < shownBefore->size(); ++i) {
            QCOMPARE((*shownAfter)[i].message.content, (*shownBefore)[i].message.content);
            QCOMPARE((*shownAfter)[i].siblingIndex, (*shownBefore)[i].siblingIndex);
            QCOMPARE((*shownAfter)[i].siblingCount, (*shownBefore)[i].siblingCount);
        }
        // Exporting the imported copy gives the same document (ids are local to the file).
        QVERIFY(exportConversations(target.db, imported->conversationIds[0], ExportFormat::Json, path("again.json")));
        QCOMPARE(conversationsOf(readFile(path("again.json"))), conversationsOf(readFile(path("one.json"))));
        // The imported conversation is searchable like any other.
        if (!before->messages.isEmpty() && scenario == QLatin1String("linear")) {
            Result<QList<SearchHit>> hits = target.store->search(QStringLiteral("Falcon"));
            QVERIFY(hits && !hits->isEmpty());
        }
    }

    void exportAllRoundTripsTheWholeList() {
        TestDb source;
        QVERIFY(source.open(path("source.sqlite")));
        for (const QString& name : scenarioNames()) QVERIFY(buildScenario(*source.store, name) > 0);
        // Soft-deleted conversations are not part of "all".
        const qint64 trashed = buildScenario(*source.store, QStringLiteral("linear"));
        QVERIFY(source.store->deleteConversation(trashed));
        Result<QList<ConversationArchive>> all = loadAllConversationArchives(source.db);
        QVERIFY(all);
        QCOMPARE(all->size(), scenarioNames().size());

        QVERIFY(exportConversations(source.db, std::nullopt, ExportFormat::Json, path("all.json")));
        TestDb target;
        QVERIFY(target.open(path("target.sqlite")));
        Result<ImportSummary> imported = importConversationsFile(target.db, path("all.json"));
        QVERIFY2(imported, imported.error().c_str());
        Result<QList<ConversationArchive>> back = loadAllConversationArchives(target.db);
        QVERIFY(back);
        QCOMPARE(back->size(), all->size());
        // Same list order (by last activity), same conversations.
        for (qsizetype i = 0; i < all->size(); ++i) {
            compareArchives((*all)[i], (*back)[i]);
            if (QTest::currentTestFailed()) return;
        }
    }

    void streamingReplyIsExportedAsInterrupted() {
        TestDb source;
        QVERIFY(source.open(path("source.sqlite")));
        Result<Conversation> c = source.store->createConversation(QStringLiteral("In progress"));
        QVERIFY(c);
        const qint64 q = ask(*source.store, c->id, QStringLiteral("Hello"));
        Result<Message> streaming = source.store->beginAssistantMessage(c->id, q);
        QVERIFY(streaming);
        QVERIFY(source.store->updateStreamingContent(streaming->id, QStringLiteral("Partial")));
        QVERIFY(exportConversations(source.db, c->id, ExportFormat::Json, path("x.json")));
        Result<QList<ConversationArchive>> parsed = conversationsFromJson(readFile(path("x.json")));
        QVERIFY2(parsed, parsed.error().c_str());
        QVERIFY(parsed->front().messages[1].status == MessageStatus::Interrupted);
        QCOMPARE(parsed->front().messages[1].content, QStringLiteral("Partial"));
    }

    // The committed v1 file: every later version must still import it the same way.
    void importsTheVersion1Fixture() {
        TestDb db;
        QVERIFY(db.open(path("db.sqlite")));
        Result<ImportSummary> imported = importConversationsFile(db.db, kFixture);
        QVERIFY2(imported, imported.error().c_str());
        QCOMPARE(imported->conversationIds.size(), 2);
        QCOMPARE(imported->messageCount, 6);

        Result<ConversationArchive> first = loadConversationArchive(db.db, imported->conversationIds[0]);
        QVERIFY(first);
        QCOMPARE(first->conversation.title, QStringLiteral("Mamba vs. attention"));
        QCOMPARE(first->conversation.createdAtMs, qint64(1750000000000));
        QCOMPARE(first->conversation.options.settings.seed, std::optional<qint64>(42));
        QCOMPARE(first->messages[2].status, MessageStatus::Interrupted);
        QCOMPARE(first->messages[2].tokens.completion, std::optional<int>(15));
        QCOMPARE(first->messages[2].settings.topK, std::optional<int>(40));
        QCOMPARE(first->messages[3].tokens.prompt, std::optional<int>());
        Result<QList<BranchMessage>> shown = db.store->pathToLeaf(imported->conversationIds[0]);
        QVERIFY(shown);
        QStringList texts;
        for (const BranchMessage& m : *shown) texts.append(m.message.content.left(12));
        QCOMPARE(texts, (QStringList{"Why is a sta", "It carries a", "Show it in P", "```python\nst"}));
        QCOMPARE((*shown)[1].siblingIndex, 1);  // the regenerated answer, second of two
        QCOMPARE((*shown)[2].siblingCount, 2);  // the edited question

        Result<Conversation> second = db.store->conversation(imported->conversationIds[1]);
        QVERIFY(second);
        QVERIFY(second->options.mode == ConversationMode::Completion);
        QCOMPARE(second->options.settings.maxNewTokens, std::optional<int>(256));
        QCOMPARE(second->currentLeafMessageId, qint64(0));
        // Both are live and ordered by the file's activity times.
        Result<QList<Conversation>> list = db.store->listConversations();
        QVERIFY(list);
        QCOMPARE(list->size(), 2);
        QCOMPARE(list->front().title, QStringLiteral("Empty completion draft"));
    }

    void defectiveFilesChangeNothing_data() {
        QTest::addColumn<QString>("target");    // JSON path to change, or "raw:" / "truncate"
        QTest::addColumn<QByteArray>("value");  // JSON text; empty: remove the field
        QTest::addColumn<QString>("expected");  // part of the message

        auto raw = [](const char* name, const QByteArray& bytes, const char* expected) {
            QTest::newRow(name) << QStringLiteral("raw:") << bytes << QString::fromUtf8(expected);
        };
        raw("empty file", "", "the file is empty");
        raw("only whitespace", " \n\t\n", "the file is empty");
        raw("not JSON", "hello, world", "not valid JSON");
        raw("binary", QByteArray("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16), "not valid JSON");
        raw("array root", "[{\"title\": \"x\"}]", "not a Falcon Mamba Chat export");
        raw("number root", "42", "not valid JSON");
        QTest::newRow("truncated") << QStringLiteral("truncate") << QByteArray() << QStringLiteral("not valid JSON");

        auto set = [](const char* name, const char* path, const QByteArray& value, const char* expected) {
            QTest::newRow(name) << QString::fromLatin1(path) << value << QString::fromUtf8(expected);
        };
        set("format missing", "format", "", "format: expected \"falcon-mamba-chat-conversations\", found nothing");
        set("other format", "format", "\"chat-export\"", "not a Falcon Mamba Chat conversation export");
        set("newer version", "version", "2", "version: the file is format version 2, newer than this version");
        set("version 0", "version", "0", "version: 0 is not a known format version");
        set("version as text", "version", "\"1\"", "version: expected an integer, found a string");
        set("fractional version", "version", "1.5", "version: expected an integer, found the number 1.5");
        set("version missing", "version", "", "version: expected an integer, found nothing");
        set("unknown top-level field", "extra", "true", "extra: unknown field");
        set("exported_at as text", "exported_at", "\"today\"", "exported_at: expected an integer");
        set("generator not text", "generator", "[]", "generator: expected a string, found an array");
        set("conversations missing", "conversations", "", "conversations: expected an array, found nothing");
        set("conversations object", "conversations", "{}", "conversations: expected an array, found an object");
        set("conversation not object", "conversations[1]", "3",
            "conversations[1]: expected an object, found the number 3");
        set("title missing", "conversations[0].title", "", "conversations[0].title: expected a string, found nothing");
        set("title number", "conversations[0].title", "5",
            "conversations[0].title: expected a string, found the number 5");
        set("created_at text", "conversations[0].created_at", "\"2025-01-01\"",
            "conversations[0].created_at: expected an integer, found a string");
        set("created_at negative", "conversations[0].created_at", "-5",
            "conversations[0].created_at: -5 is out of range");
        set("updated_at fractional", "conversations[1].updated_at", "1.5",
            "conversations[1].updated_at: expected an integer");
        set("unknown mode", "conversations[1].mode", "\"voice\"", "conversations[1].mode: unknown mode \"voice\"");
        set("settings not object", "conversations[0].settings", "[1]",
            "conversations[0].settings: expected an object, found an array");
        set("temperature text", "conversations[0].settings.temperature", "\"hot\"",
            "conversations[0].settings.temperature: expected a number, found a string");
        set("settings typo", "conversations[0].settings.temprature", "0.5",
            "conversations[0].settings.temprature: unknown field");
        set("top_k negative", "conversations[1].settings.top_k", "-1",
            "conversations[1].settings.top_k: -1 is out of range");
        set("unknown conversation field", "conversations[0].folder", "\"Work\"",
            "conversations[0].folder: unknown field");
        set("messages missing", "conversations[0].messages", "",
            "conversations[0].messages: expected an array, found nothing");
        set("message not object", "conversations[0].messages[2]", "null",
            "conversations[0].messages[2]: expected an object, found null");
        set("duplicate id", "conversations[0].messages[4].id", "4", "conversations[0].messages[4].id: duplicate id 4");
        set("id zero", "conversations[0].messages[0].id", "0", "conversations[0].messages[0].id: 0 is out of range");
        set("id text", "conversations[0].messages[0].id", "\"1\"",
            "conversations[0].messages[0].id: expected an integer");
        set("parent missing", "conversations[0].messages[1].parent", "",
            "conversations[0].messages[1].parent: missing");
        set("unknown parent", "conversations[0].messages[3].parent", "17",
            "conversations[0].messages[3].parent: unknown id 17");
        set("parent cycle", "conversations[0].messages[0].parent", "3",
            "the parent references form a cycle (1 -> 3 -> 1)");
        set("own parent", "conversations[0].messages[3].parent", "4",
            "conversations[0].messages[3].parent: the parent references form a cycle (4 -> 4)");
        set("unknown role", "conversations[0].messages[1].role", "\"robot\"",
            "conversations[0].messages[1].role: unknown role \"robot\"");
        set("role missing", "conversations[0].messages[1].role", "",
            "conversations[0].messages[1].role: expected a string, found nothing");
        set("content null", "conversations[0].messages[0].content", "null",
            "conversations[0].messages[0].content: expected a string, found null");
        set("content missing", "conversations[0].messages[5].content", "",
            "conversations[0].messages[5].content: expected a string, found nothing");
        set("status streaming", "conversations[0].messages[2].status", "\"streaming\"",
            "conversations[0].messages[2].status: unknown status \"streaming\"");
        set("status unknown", "conversations[0].messages[2].status", "\"done\"", "unknown status \"done\"");
        set("message time missing", "conversations[0].messages[4].created_at", "",
            "conversations[0].messages[4].created_at: expected an integer, found nothing");
        set("negative tokens", "conversations[0].messages[1].prompt_tokens", "-3",
            "conversations[0].messages[1].prompt_tokens: -3 is out of range");
        set("fractional tokens", "conversations[0].messages[1].completion_tokens", "2.5",
            "completion_tokens: expected an integer");
        set("too many tokens", "conversations[0].messages[1].completion_tokens", "3000000000",
            "completion_tokens: 3000000000 is out of range");
        set("model number", "conversations[0].messages[1].model", "7",
            "conversations[0].messages[1].model: expected a string");
        set("message settings", "conversations[0].messages[1].settings", "{\"seed\": \"x\"}",
            "conversations[0].messages[1].settings.seed: expected an integer");
        set("misspelt parent", "conversations[0].messages[1].parnet", "1",
            "conversations[0].messages[1].parnet: unknown field");
        set("unknown current leaf", "conversations[0].current_leaf", "99",
            "conversations[0].current_leaf: unknown id 99");
        set("current leaf text", "conversations[0].current_leaf", "\"6\"",
            "conversations[0].current_leaf: expected an integer");
    }
    void defectiveFilesChangeNothing() {
        QFETCH(QString, target);
        QFETCH(QByteArray, value);
        QFETCH(QString, expected);

        QByteArray bytes;
        const QByteArray fixture = readFile(kFixture);
        QVERIFY(!fixture.isEmpty());
        if (target == QLatin1String("raw:")) {
            bytes = value;
        } else if (target == QLatin1String("truncate")) {
            bytes = fixture.left(fixture.size() * 2 / 3);
        } else {
            QJsonValue replacement(QJsonValue::Undefined);  // remove the field
            if (!value.isEmpty()) {
                replacement = QJsonDocument::fromJson("[" + value + "]").array().at(0);
                QVERIFY2(!replacement.isUndefined(), "bad test value");
            }
            const QJsonValue root = edited(QJsonDocument::fromJson(fixture).object(), splitPath(target), replacement);
            bytes = QJsonDocument(root.toObject()).toJson();
        }
        const QString file = path("defective.json");
        QVERIFY(writeFile(file, bytes));

        TestDb db;
        QVERIFY(db.open(path("db.sqlite")));
        for (const QString& name : scenarioNames()) QVERIFY(buildScenario(*db.store, name) > 0);
        const QStringList before = dumpDatabase(db.db);
        QVERIFY(before.size() > 20);

        Result<ImportSummary> imported = importConversationsFile(db.db, file);
        QVERIFY(!imported);
        QVERIFY2(errorText(imported).startsWith(file + QStringLiteral(": ")), imported.error().c_str());
        QVERIFY2(errorText(imported).contains(expected), imported.error().c_str());
        QCOMPARE(dumpDatabase(db.db), before);
    }

    // A write that fails half-way (here a trigger refusing the last message of the second
    // conversation) leaves nothing of the first conversation behind either.
    void failedWriteRollsBackEverything() {
        TestDb db;
        QVERIFY(db.open(path("db.sqlite")));
        QVERIFY(buildScenario(*db.store, QStringLiteral("branches")) > 0);
        QJsonObject root = QJsonDocument::fromJson(readFile(kFixture)).object();
        QJsonArray conversations = root.value(QStringLiteral("conversations")).toArray();
        QJsonObject second = conversations[1].toObject();
        second.insert(QStringLiteral("messages"), QJsonArray{QJsonObject{{"id", 1},
                                                                         {"parent", QJsonValue::Null},
                                                                         {"role", "user"},
                                                                         {"content", "refuse me"},
                                                                         {"created_at", 1},
                                                                         {"updated_at", 1}}});
        conversations.replace(1, second);
        root.insert(QStringLiteral("conversations"), conversations);
        QVERIFY(writeFile(path("in.json"), QJsonDocument(root).toJson()));

        QVERIFY(
            db.db.exec(QStringLiteral("CREATE TEMP TRIGGER refuse BEFORE INSERT ON main.messages "
                                      "WHEN new.content = 'refuse me' "
                                      "BEGIN SELECT RAISE(ABORT, 'disk full (simulated)'); END")));
        const QStringList before = dumpDatabase(db.db);
        Result<ImportSummary> imported = importConversationsFile(db.db, path("in.json"));
        QVERIFY(!imported);
        QVERIFY2(errorText(imported).contains(QStringLiteral("nothing was changed")), imported.error().c_str());
        QVERIFY2(errorText(imported).contains(QStringLiteral("disk full (simulated)")), imported.error().c_str());
        QCOMPARE(dumpDatabase(db.db), before);
        // The connection is usable afterwards (the transaction was closed).
        QVERIFY(db.store->createConversation(QStringLiteral("after")));
    }

    void missingFileIsReported() {
        TestDb db;
        QVERIFY(db.open(path("db.sqlite")));
        Result<ImportSummary> imported = importConversationsFile(db.db, path("nope.json"));
        QVERIFY(!imported);
        QVERIFY2(errorText(imported).contains(QStringLiteral("nope.json: cannot open")), imported.error().c_str());
    }

    void cliExportsAndImports() {
        TestDb source;
        QVERIFY(source.open(path("source.sqlite")));
        const qint64 id = buildScenario(*source.store, QStringLiteral("branches"));
        QVERIFY(buildScenario(*source.store, QStringLiteral("unicode")) > 0);
        const std::string db = path("source.sqlite").toStdString();

        CliRun all =
            runCli({"export", "--db", db, "--all", "--format", "json", "--out", path("all.json").toStdString()});
        QVERIFY2(all.code == 0, qPrintable(all.err));
        QVERIFY2(all.out.contains(QStringLiteral("exported 2 conversations")), qPrintable(all.out));
        // The format from the suffix.
        CliRun one =
            runCli({"export", "--db", db, "--conversation", std::to_string(id), "--out", path("one.md").toStdString()});
        QVERIFY2(one.code == 0, qPrintable(one.err));
        QVERIFY(readFile(path("one.md")).startsWith("# Scenario: branches"));

        const std::string target = path("target.sqlite").toStdString();  // created by the import
        CliRun imported = runCli({"import", "--db", target, "--in", path("all.json").toStdString()});
        QVERIFY2(imported.code == 0, qPrintable(imported.err));
        QVERIFY2(imported.out.contains(QStringLiteral("imported 2 conversations")), qPrintable(imported.out));
        QVERIFY2(imported.out.contains(QStringLiteral("as ids 1, 2")), qPrintable(imported.out));

        // Errors: usage (2) and failures (1), each saying what is wrong.
        QVERIFY(writeFile(path("bad.json"), "{\"format\": \"falcon-mamba-chat-conversations\", \"version\": 9}"));
        const struct {
            std::vector<std::string> args;
            int code;
            const char* message;
        } failures[] = {
            {{"export", "--db", db, "--out", "x.md"}, 2, "give either --conversation ID or --all"},
            {{"export", "--db", db, "--all", "--conversation", "1", "--out", "x.md"}, 2, "give either"},
            {{"export", "--db", db, "--all", "--out", path("x").toStdString()}, 2, "give --format"},
            {{"export", "--db", db, "--all", "--format", "docx", "--out", "x"}, 2, "unknown --format 'docx'"},
            {{"export", "--db", db, "--conversation", "abc", "--out", "x.md"}, 2, "expects an integer"},
            {{"export", "--db", path("missing.sqlite").toStdString(), "--all", "--out", "x.md"},
             1,
             "no such database file"},
            {{"export", "--db", db, "--conversation", "999", "--out", path("x.md").toStdString()},
             1,
             "no conversation with id 999"},
            {{"import", "--db", target}, 2, "missing --in"},
            {{"import", "--db", target, "--in", path("bad.json").toStdString()}, 1, "newer than this version"},
        };
        for (const auto& f : failures) {
            CliRun r = runCli(f.args);
            QVERIFY2(r.code == f.code, qPrintable(r.err));
            QVERIFY2(r.err.contains(QString::fromUtf8(f.message)), qPrintable(r.err));
        }
        QVERIFY(!QFileInfo::exists(path("x.md")));
        // A refused import into a database that did not exist leaves no empty database behind.
        CliRun refused =
            runCli({"import", "--db", path("new.sqlite").toStdString(), "--in", path("bad.json").toStdString()});
        QCOMPARE(refused.code, 1);
        QVERIFY(!QFileInfo::exists(path("new.sqlite")));
        // The refused import left the two earlier ones alone.
        TestDb check;
        QVERIFY(check.open(path("target.sqlite")));
        QCOMPARE(check.store->listConversations()->size(), 2);
    }

    void controllerRunsJobsOffTheGuiThread() {
        TestDb db;
        QVERIFY(db.open(path("db.sqlite")));
        const qint64 id = buildScenario(*db.store, QStringLiteral("branches"));
        QVERIFY(buildScenario(*db.store, QStringLiteral("linear")) > 0);

        ExportController controller(path("db.sqlite"));
        QSignalSpy exported(&controller, &ExportController::exportFinished);
        QSignalSpy imported(&controller, &ExportController::importFinished);
        QSignalSpy busy(&controller, &ExportController::busyChanged);

        controller.exportConversation(id, QStringLiteral("html"), QUrl::fromLocalFile(path("one.html")));
        controller.exportAll(QString(), QUrl::fromLocalFile(path("all.pdf")));  // format from the suffix
        controller.exportAll(QStringLiteral("json"), QUrl::fromLocalFile(path("all.json")));
        controller.exportAll(QStringLiteral("docx"), QUrl::fromLocalFile(path("all.docx")));
        controller.exportAll(QStringLiteral("md"), QUrl(QStringLiteral("https://example.invalid/x.md")));
        QVERIFY(controller.busy());
        QVERIFY(controller.waitForIdle(60'000));
        QCOMPARE(exported.count(), 5);
        QVERIFY(!controller.busy());
        QCOMPARE(busy.count(), 2);  // on, then off once for the whole burst
        for (int i = 0; i < 3; ++i) QVERIFY2(exported[i][0].toBool(), qPrintable(exported[i][1].toString()));
        QVERIFY(exported[0][1].toString().contains(QStringLiteral("Exported 1 conversation to")));
        QVERIFY(exported[2][1].toString().contains(QStringLiteral("Exported 2 conversations")));
        QVERIFY(!exported[3][0].toBool());
        QVERIFY(exported[3][1].toString().contains(QStringLiteral("unknown format \"docx\"")));
        QVERIFY(!exported[4][0].toBool());
        QVERIFY(exported[4][1].toString().contains(QStringLiteral("only local files")));
        QVERIFY(readFile(path("all.pdf")).startsWith("%PDF-"));
        QVERIFY(readFile(path("one.html")).contains("<!DOCTYPE html>"));

        controller.importFile(QUrl::fromLocalFile(path("all.json")));
        QVERIFY(writeFile(path("bad.json"), "{\"format\": \"falcon-mamba-chat-conversations\""));
        controller.importFile(QUrl::fromLocalFile(path("bad.json")));
        QVERIFY(controller.waitForIdle(60'000));
        QCOMPARE(imported.count(), 2);
        QVERIFY2(imported[0][0].toBool(), qPrintable(imported[0][1].toString()));
        QCOMPARE(imported[0][1].toString(), QStringLiteral("Imported 2 conversations (14 messages)"));
        const QVariantList ids = imported[0][2].toList();
        QCOMPARE(ids.size(), 2);
        Result<Conversation> copy = db.store->conversation(ids[0].toLongLong());
        QVERIFY(copy);
        QCOMPARE(copy->title, QStringLiteral("Scenario: linear"));  // most recent first
        QVERIFY(!imported[1][0].toBool());
        QVERIFY(imported[1][1].toString().startsWith(QStringLiteral("Nothing was imported: ")));
        QVERIFY(imported[1][1].toString().contains(QStringLiteral("bad.json: not valid JSON")));
        QVERIFY(imported[1][2].toList().isEmpty());
        QCOMPARE(db.store->listConversations()->size(), 4);

        QCOMPARE(controller.suggestedFileName(QStringLiteral("a/b: c?"), QStringLiteral("pdf")),
                 QStringLiteral("ab c.pdf"));
        QCOMPARE(controller.nameFilters(QStringLiteral("md")), QStringList{QStringLiteral("Markdown (*.md)")});
        QCOMPARE(controller.nameFilters().size(), 5);
    }
};

QTEST_MAIN(TestExportImport)
#include "test_export_import.moc"
