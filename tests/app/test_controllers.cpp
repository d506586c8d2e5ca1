// The controllers the window binds to, driven the way QML drives them, with the real worker
// thread and the tiny chat fixture. Also: command-line parsing, checkpoint checks, the
// Hugging Face cache scan, Markdown block splitting and the list models under the tester.

#include <QAbstractItemModelTester>
#include <QClipboard>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QGuiApplication>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>

#include "app/checkpoint_inspection.h"
#include "app/controllers/app_controller.h"
#include "app/markdown/markdown_blocks.h"
#include "app/startup/command_line.h"
#include "app/storage/conversation_store.h"
#include "app/worker/inference_worker.h"
#include "inference/backends/backend.h"
#include "tests/app/app_test_support.h"
#include "tests/app/token_pace.h"
#include "tests/tools/text_cases.h"

using namespace fm::app;
using namespace fm::app::testing;
using fm::testing::addTextCases;
using fm::testing::textCase;

// HF_HUB_CACHE, HF_HOME and XDG_CACHE_HOME; empty: not set.
struct HubVariables {
    QString hubCache, hfHome, xdg;
};
Q_DECLARE_METATYPE(HubVariables)

class TestControllers : public QObject {
    Q_OBJECT

private:
    QTemporaryDir dir_;
    std::unique_ptr<AppController> app_;

    bool loadTinyModel(AppController& app) {
        QSignalSpy ready(app.models(), &ModelController::modelReady);
        app.models()->setBackend(QStringLiteral("cpu"));
        if (!app.models()->load(tinyChatDir())) return false;
        return ready.wait(30000);
    }
    // Sends and waits until the reply is finished and saved.
    bool sendAndWait(const QString& text) {
        QSignalSpy saved(app_->chat(), &ChatController::replySaved);
        if (!app_->chat()->send(text)) return false;
        return saved.wait(30000);
    }
    QString roleAt(int row) { return dataAt(app_->chat()->messages(), row, fm::MessageListModel::RoleRole).toString(); }
    QString contentAt(int row) { return messageContent(app_->chat()->messages(), row); }

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(dir_.isValid());
        app_ = std::make_unique<AppController>(environmentIn(dir_));
        QVERIFY2(app_->startupError().isEmpty(), qPrintable(app_->startupError()));
        // Every list model the controllers expose stays consistent through all that follows.
        new QAbstractItemModelTester(app_->conversations()->list(),
                                     QAbstractItemModelTester::FailureReportingMode::QtTest, this);
        new QAbstractItemModelTester(app_->chat()->messages(), QAbstractItemModelTester::FailureReportingMode::QtTest,
                                     this);
        new QAbstractItemModelTester(app_->models()->recentModels(),
                                     QAbstractItemModelTester::FailureReportingMode::QtTest, this);
        new QAbstractItemModelTester(app_->models()->hubModels(),
                                     QAbstractItemModelTester::FailureReportingMode::QtTest, this);
    }
    void cleanupTestCase() { app_.reset(); }

    // ---- Before a model is loaded ---------------------------------------------------------
    void composerIsDisabledWithAReason() {
        QVERIFY(!app_->chat()->canSend());
        QVERIFY(app_->chat()->composerDisabledReason().contains(QStringLiteral("Load a model")));
        QVERIFY(!app_->chat()->send(QStringLiteral("hello?")));
    }

    void modelValidationMessages_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("expected");
        QTest::newRow("empty") << QString() << QStringLiteral("Choose a checkpoint folder");
        QTest::newRow("missing") << QStringLiteral(FM_TEST_DATA_DIR "/nope") << QStringLiteral("does not exist");
        QTest::newRow("a file") << QStringLiteral(FM_TEST_DATA_DIR "/tiny-chat/config.json")
                                << QStringLiteral("is a file");
        QTest::newRow("no config") << QStringLiteral(FM_TEST_DATA_DIR "/tokenizers/falcon-tokenizer")
                                   << QStringLiteral("No config.json");
        QTest::newRow("no weights") << QStringLiteral(FM_TEST_DATA_DIR "/falcon-mamba-7b-config")
                                    << QStringLiteral("No weights");
        QTest::newRow("no tokenizer") << QStringLiteral(FM_TEST_DATA_DIR "/checkpoints/tiny-bf16")
                                      << QStringLiteral("No tokenizer");
        QTest::newRow("file URL, bad") << QStringLiteral("file://" FM_TEST_DATA_DIR "/nope")
                                       << QStringLiteral("does not exist");
    }
    void modelValidationMessages() {
        QFETCH(QString, path);
        QFETCH(QString, expected);
        const QVariantMap check = app_->models()->checkFolder(path);
        QVERIFY(!check.value(QStringLiteral("ok")).toBool());
        QVERIFY2(check.value(QStringLiteral("message")).toString().contains(expected),
                 qPrintable(check.value(QStringLiteral("message")).toString()));
        QSignalSpy failed(app_->models(), &ModelController::loadFailed);
        QVERIFY(!app_->models()->load(path));
        QCOMPARE(failed.count(), 1);
        QCOMPARE(app_->models()->status(), ModelController::Status::Failed);
        QVERIFY(app_->models()->errorMessage().contains(expected));
    }

    void badConfigIsExplained() {
        QTemporaryDir bad;
        QFile config(bad.filePath(QStringLiteral("config.json")));
        QVERIFY(config.open(QIODevice::WriteOnly));
        config.write(R"({"model_type": "llama", "hidden_size": 64})");
        config.close();
        const QVariantMap check = app_->models()->checkFolder(bad.path());
        QVERIFY(!check.value(QStringLiteral("ok")).toBool());
        QVERIFY2(check.value(QStringLiteral("message")).toString().contains(QStringLiteral("llama")),
                 qPrintable(check.value(QStringLiteral("message")).toString()));
    }

    void theFixtureChecksOut() {
        const QVariantMap check = app_->models()->checkFolder(tinyChatDir());
        QVERIFY2(check.value(QStringLiteral("ok")).toBool(),
                 qPrintable(check.value(QStringLiteral("message")).toString()));
    }

    // What the models page says about CUDA is what the engine's probe found: available with a
    // named device and no reason, or unavailable with a reason and no device. Without the
    // NVIDIA driver's control device on this machine it cannot be available at all.
    void cudaStatusIsConsistent() {
        const ModelController* models = app_->models();
        const fm::CudaAvailability probe = fm::cuda_availability();
        QCOMPARE(models->cudaAvailable(), probe.available);
        if (models->cudaAvailable()) {
            QVERIFY(!models->cudaDevice().isEmpty());
            QCOMPARE(models->cudaDevice(), QString::fromStdString(probe.device_name));
            QVERIFY(models->cudaReason().isEmpty());
        } else {
            QVERIFY(!models->cudaReason().isEmpty());
            QCOMPARE(models->cudaReason(), QString::fromStdString(probe.reason));
            QVERIFY(models->cudaDevice().isEmpty());
        }
        if (!QFileInfo::exists(QStringLiteral("/dev/nvidiactl"))) QVERIFY(!models->cudaAvailable());
    }

    // ---- Conversation actions -------------------------------------------------------------
    void newRenameDeleteUndo() {
        QSignalSpy changed(app_->conversations(), &ConversationsController::currentConversationChanged);
        const qint64 id = app_->conversations()->newConversation();
        QVERIFY(id > 0);
        QCOMPARE(app_->conversations()->currentConversationId(), id);
        QCOMPARE(app_->conversations()->newConversation(), id);  // still empty: reused, no pile of empty chats
        QCOMPARE(app_->conversations()->list()->count(), 1);
        QVERIFY(app_->conversations()->renameConversation(id, QStringLiteral("  Falcons   and mambas ")));
        QCOMPARE(app_->conversations()->currentTitle(), QStringLiteral("Falcons and mambas"));
        QVERIFY(!app_->conversations()->renameConversation(id, QStringLiteral("   ")));

        QVERIFY(app_->conversations()->deleteConversation(id));
        QCOMPARE(app_->conversations()->list()->count(), 0);
        QVERIFY(app_->conversations()->undoAvailable());
        QCOMPARE(app_->conversations()->undoTitle(), QStringLiteral("Falcons and mambas"));
        QCOMPARE(app_->conversations()->currentConversationId(), qint64(0));
        QVERIFY(app_->conversations()->undoDelete());
        QVERIFY(!app_->conversations()->undoAvailable());
        QCOMPARE(app_->conversations()->list()->count(), 1);
        QCOMPARE(app_->conversations()->currentConversationId(), id);
        QVERIFY(changed.count() >= 3);
    }

    void loadTheModel() {
        QSignalSpy status(app_->models(), &ModelController::statusChanged);
        QVERIFY(loadTinyModel(*app_));
        QCOMPARE(app_->models()->status(), ModelController::Status::Ready);
        QVERIFY(app_->models()->errorMessage().isEmpty());
        QVERIFY(app_->models()->checkpointIsChat());
        QVERIFY(app_->chat()->canSend());
        QVERIFY(app_->chat()->composerDisabledReason().isEmpty());
        QCOMPARE(app_->models()->recentModels()->rowCount(), 1);
        QCOMPARE(app_->models()->recentModels()->checkpoints().first().path, QDir::cleanPath(tinyChatDir()));
    }

    void sendStreamsAndSavesTheReply() {
        auto* chat = app_->chat();
        app_->chatSettings()->change({.temperature = 0, .maxNewTokens = 24});
        QSignalSpy generating(chat, &ChatController::generatingChanged);
        QVERIFY(sendAndWait(QStringLiteral("What is a state-space model?")));
        QVERIFY(!chat->isGenerating());
        QVERIFY(generating.count() >= 2);
        QCOMPARE(chat->messages()->count(), 2);
        QCOMPARE(roleAt(0), QStringLiteral("user"));
        QCOMPARE(roleAt(1), QStringLiteral("assistant"));
        // The first message named the conversation (it had been renamed: the name stays).
        QCOMPARE(app_->conversations()->currentTitle(), QStringLiteral("Falcons and mambas"));
        // What is on screen is what is stored.
        auto stored = app_->store()->pathToLeaf(app_->conversations()->currentConversationId());
        QVERIFY(stored.ok());
        QCOMPARE(stored->size(), 2);
        QCOMPARE(stored->at(1).message.content, contentAt(1));
        QCOMPARE(stored->at(1).message.status, fm::MessageStatus::Complete);
        QVERIFY(stored->at(1).message.tokens.completion.value_or(0) > 0);
    }

    void aNewChatIsNamedAfterItsFirstMessage() {
        const qint64 before = app_->conversations()->currentConversationId();
        const qint64 id = app_->conversations()->newConversation();
        QVERIFY(id != before);
        QVERIFY(sendAndWait(QStringLiteral("Explain recurrent state\nin two lines")));
        QCOMPARE(app_->conversations()->currentTitle(), QStringLiteral("Explain recurrent state"));
        QCOMPARE(app_->conversations()->list()->idAt(0), id);  // most recent activity first
    }

    void regenerateAddsASibling() {
        auto* chat = app_->chat();
        app_->chatSettings()->change({.temperature = 0.9, .seed = 7});
        QSignalSpy saved(chat, &ChatController::replySaved);
        QVERIFY(chat->regenerate());
        QVERIFY(saved.wait(30000));
        QCOMPARE(chat->messages()->count(), 2);
        auto* m = chat->messages();
        QCOMPARE(m->data(m->index(1), fm::MessageListModel::SiblingCountRole).toInt(), 2);
        QCOMPARE(m->data(m->index(1), fm::MessageListModel::SiblingIndexRole).toInt(), 1);
        // Branch navigation back to the first reply and forward again.
        QVERIFY(chat->showSibling(1, -1));
        QCOMPARE(m->data(m->index(1), fm::MessageListModel::SiblingIndexRole).toInt(), 0);
        QVERIFY(chat->showSibling(1, 1));
    }

    void editContinuesFromTheEditedMessage() {
        auto* chat = app_->chat();
        auto* m = chat->messages();
        const qint64 userId = m->idAt(0);
        QSignalSpy saved(chat, &ChatController::replySaved);
        QVERIFY(chat->editMessage(userId, QStringLiteral("Explain the recurrent state, briefly")));
        QVERIFY(saved.wait(30000));
        QCOMPARE(m->count(), 2);
        QCOMPARE(contentAt(0), QStringLiteral("Explain the recurrent state, briefly"));
        QCOMPARE(m->data(m->index(0), fm::MessageListModel::SiblingCountRole).toInt(), 2);
        QCOMPARE(m->data(m->index(1), fm::MessageListModel::SiblingCountRole).toInt(), 1);
        QVERIFY(m->idAt(0) != userId);  // the original stays, as a sibling
    }

    void stopKeepsThePartialReply() {
        auto* chat = app_->chat();
        app_->chatSettings()->change({.maxNewTokens = 100000});
        app_->worker()->setTokenPacer(fm::app::testing::tokenPace(5));
        QSignalSpy saved(chat, &ChatController::replySaved);
        QVERIFY(chat->send(QStringLiteral("Go on and on")));
        QTRY_VERIFY_WITH_TIMEOUT(!chat->messages()->contentOf(chat->streamingMessageId()).isEmpty(), 10000);
        chat->stop();
        QVERIFY(saved.wait(5000));
        app_->worker()->setTokenPacer(fm::app::testing::tokenPace(0));
        app_->chatSettings()->change({.maxNewTokens = 24});
        auto message = app_->store()->message(chat->messages()->idAt(chat->messages()->count() - 1));
        QVERIFY(message.ok());
        QVERIFY(!message->content.isEmpty());
        QCOMPARE(message->status, fm::MessageStatus::Complete);
    }

    // Closing the app while a reply is written keeps what streamed, marked interrupted (the
    // worker ends the reply, straight to the store): the next start finds nothing to repair.
    void closingMidReplyKeepsItInterrupted() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        qint64 messageId = 0;
        {
            AppController app(environmentIn(dir));
            QVERIFY(loadTinyModel(app));
            app.chatSettings()->change({.maxNewTokens = 100000});
            app.worker()->setTokenPacer(fm::app::testing::tokenPace(5));
            QVERIFY(app.chat()->send(QStringLiteral("Go on and on")));
            messageId = app.chat()->streamingMessageId();
            QTRY_VERIFY_WITH_TIMEOUT(!app.chat()->messages()->contentOf(messageId).isEmpty(), 10000);
        }
        AppController reopened(environmentIn(dir));
        QCOMPARE(reopened.interruptedReplies(), 0);
        auto message = reopened.store()->message(messageId);
        QVERIFY(message.ok());
        QCOMPARE(message->status, fm::MessageStatus::Interrupted);
        QVERIFY(!message->content.isEmpty());
    }

    void copyPutsTextOnTheClipboard() {
        auto* chat = app_->chat();
        QVERIFY(chat->copyLastReply());
        QCOMPARE(QGuiApplication::clipboard()->text(), contentAt(chat->messages()->count() - 1));
        QVERIFY(chat->copyMessage(chat->messages()->idAt(0)));
        QCOMPARE(QGuiApplication::clipboard()->text(), contentAt(0));
    }

    void searchFindsMessagesWithSnippets() {
        auto* list = app_->conversations()->list();
        list->setFilter(QStringLiteral("recurrent"));
        QVERIFY(list->isSearching());
        QVERIFY(list->count() >= 1);
        const QString snippet = list->data(list->index(0), fm::ConversationListModel::SnippetRole).toString();
        QVERIFY2(snippet.contains(QStringLiteral("<b>")), qPrintable(snippet));
        list->setFilter(QString());
        QVERIFY(!list->isSearching());
    }

    void settingsArePerConversationOverDefaults() {
        auto* settings = app_->chatSettings();
        settings->resetToDefaults();
        QVERIFY(settings->usesDefaults());
        settings->change({.temperature = 1.3});
        QVERIFY(!settings->usesDefaults());
        const qint64 first = app_->conversations()->currentConversationId();
        const qint64 second = app_->conversations()->list()->idAt(1);
        QVERIFY(app_->conversations()->selectConversation(second));
        QCOMPARE(app_->chatSettings()->values().temperature == 1.3, false);
        QVERIFY(app_->conversations()->selectConversation(first));
        QCOMPARE(*app_->chatSettings()->values().temperature, 1.3);
        settings->setSystemPrompt(QStringLiteral("You are terse."));
        settings->saveAsDefaults();
        QVERIFY(settings->usesDefaults());
        // A conversation that overrides nothing follows the new defaults...
        QVERIFY(app_->conversations()->newConversation() != 0);
        QCOMPARE(app_->chatSettings()->systemPrompt(), QStringLiteral("You are terse."));
        QCOMPARE(app_->chatSettings()->engineParams().sampling.temperature, 1.3f);
        // ...one that set its own temperature keeps it.
        QVERIFY(app_->conversations()->selectConversation(second));
        QCOMPARE(app_->chatSettings()->systemPrompt(), QStringLiteral("You are terse."));
        QVERIFY(app_->chatSettings()->values().temperature != 1.3);
    }

    void completionModeCanBeChosen() {
        app_->conversations()->newConversation();
        app_->chatSettings()->setCompletionMode(true);
        app_->chatSettings()->change({.temperature = 0});
        QVERIFY(sendAndWait(QStringLiteral("Once upon a time")));
        auto conversation = app_->store()->conversation(app_->conversations()->currentConversationId());
        QVERIFY(conversation.ok());
        QCOMPARE(conversation->options.mode, fm::ConversationMode::Completion);
    }

    // ---- Pieces without a window ----------------------------------------------------------
    void commandLine_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<bool>("version");
        QTest::addColumn<QString>("model");
        QTest::addColumn<bool>("error");
        QTest::newRow("nothing") << QStringList{"app"} << false << QString() << false;
        QTest::newRow("--version") << QStringList{"app", "--version"} << true << QString() << false;
        QTest::newRow("--model") << QStringList{"app", "--model", "/tmp/ckpt"} << false << QStringLiteral("/tmp/ckpt")
                                 << false;
        QTest::newRow("--model=") << QStringList{"app", "--model=/tmp/x/../ckpt"} << false
                                  << QStringLiteral("/tmp/ckpt") << false;
        QTest::newRow("-m") << QStringList{"app", "-m", "/tmp/ckpt"} << false << QStringLiteral("/tmp/ckpt") << false;
        QTest::newRow("--model without dir") << QStringList{"app", "--model"} << false << QString() << true;
        QTest::newRow("unknown option") << QStringList{"app", "--frobnicate"} << false << QString() << true;
        QTest::newRow("stray argument") << QStringList{"app", "extra"} << false << QString() << true;
    }
    void commandLine() {
        QFETCH(QStringList, args);
        QFETCH(bool, version);
        QFETCH(QString, model);
        QFETCH(bool, error);
        const CommandLineOptions options = parseCommandLine(args);
        QCOMPARE(options.showVersion, version);
        QCOMPARE(options.modelDir, model);
        QCOMPARE(!options.error.isEmpty(), error);
        QVERIFY(options.versionText.contains(applicationVersion()));
        QVERIFY(options.helpText.contains(QStringLiteral("--model")));
    }

    void hubCacheLocation_data() {
        QTest::addColumn<HubVariables>("variables");
        QTest::addColumn<QString>("expected");
        QTest::newRow("HF_HUB_CACHE wins") << HubVariables{"/a/hub", "/b", "/c"} << "/a/hub";
        QTest::newRow("HF_HOME") << HubVariables{"", "/b", "/c"} << "/b/hub";
        QTest::newRow("XDG_CACHE_HOME") << HubVariables{"", "", "/c"} << "/c/huggingface/hub";
        QTest::newRow("home") << HubVariables{"", "", ""} << "/home/u/.cache/huggingface/hub";
    }
    void hubCacheLocation() {
        QFETCH(HubVariables, variables);
        QFETCH(QString, expected);
        QProcessEnvironment env;
        env.insert(QStringLiteral("HOME"), QStringLiteral("/home/u"));
        if (!variables.hubCache.isEmpty()) env.insert(QStringLiteral("HF_HUB_CACHE"), variables.hubCache);
        if (!variables.hfHome.isEmpty()) env.insert(QStringLiteral("HF_HOME"), variables.hfHome);
        if (!variables.xdg.isEmpty()) env.insert(QStringLiteral("XDG_CACHE_HOME"), variables.xdg);
        QCOMPARE(huggingFaceHubCache(env), expected);
    }

    void hubCacheScanFindsFalconMambaSnapshots() {
        QTemporaryDir hub;
        const auto snapshot = [&](const QString& repo, const QString& hash, const QByteArray& type) {
            const QString path = hub.filePath(QStringLiteral("models--%1/snapshots/%2").arg(repo, hash));
            QDir().mkpath(path);
            QFile f(path + QStringLiteral("/config.json"));
            if (f.open(QIODevice::WriteOnly)) f.write("{\"model_type\": \"" + type + "\"}");
            return path;
        };
        snapshot(QStringLiteral("tiiuae--falcon-mamba-7b"), QStringLiteral("abc"), "falcon_mamba");
        snapshot(QStringLiteral("state-spaces--mamba-130m-hf"), QStringLiteral("def"), "mamba");
        snapshot(QStringLiteral("meta--llama"), QStringLiteral("123"), "llama");
        QDir().mkpath(hub.filePath(QStringLiteral("datasets--x--y/snapshots/1")));
        const QList<FoundCheckpoint> found = findHubCheckpoints(hub.path());
        QCOMPARE(found.size(), 2);
        QCOMPARE(found.at(0).displayName, QStringLiteral("state-spaces/mamba-130m-hf"));
        QCOMPARE(found.at(1).displayName, QStringLiteral("tiiuae/falcon-mamba-7b"));
        QCOMPARE(found.at(1).modelType, QStringLiteral("falcon_mamba"));

        // Through the controller (scanned off the GUI thread), under the model tester.
        QTemporaryDir appDir;
        AppEnvironment env = environmentIn(appDir);
        env.hubCacheDir = hub.path();
        AppController app(env);
        QAbstractItemModelTester tester(app.models()->hubModels(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy scanning(app.models(), &ModelController::scanningChanged);
        app.models()->refreshHubModels();
        QTRY_VERIFY_WITH_TIMEOUT(!app.models()->scanning(), 5000);
        QCOMPARE(app.models()->hubModels()->rowCount(), 2);
        const QModelIndex first = app.models()->hubModels()->index(1);
        QCOMPARE(first.data(CheckpointListModel::NameRole).toString(), QStringLiteral("tiiuae/falcon-mamba-7b"));
        QVERIFY(first.data(CheckpointListModel::PathRole).toString().endsWith(QStringLiteral("/snapshots/abc")));
    }

    void markdownBlocks_data() {
        QTest::addColumn<QString>("markdown");
        QTest::addColumn<QStringList>("kinds");  // "text" / "code:<language>" / "open:<language>"
        QTest::newRow("prose") << "Hello **world**" << QStringList{"text"};
        QTest::newRow("code") << "Look:\n```cpp\nint x;\n```\nDone." << QStringList{"text", "code:cpp", "text"};
        QTest::newRow("tilde fence") << "~~~\nraw\n~~~" << QStringList{"code:"};
        QTest::newRow("streaming, open fence") << "Here:\n```python\nprint(1)" << QStringList{"text", "open:python"};
        QTest::newRow("inline backticks are prose") << "Use `x` and ``y``." << QStringList{"text"};
        QTest::newRow("longer closing fence") << "````\n```\nnested\n```\n````" << QStringList{"code:"};
    }
    void markdownBlocks() {
        QFETCH(QString, markdown);
        QFETCH(QStringList, kinds);
        QStringList got;
        for (const MarkdownBlock& b : splitMarkdownBlocks(markdown))
            got << (b.code() ? (b.closed ? QStringLiteral("code:") : QStringLiteral("open:")) + b.language
                             : QStringLiteral("text"));
        QCOMPARE(got, kinds);
    }

    void titles_data() {
        addTextCases({
            {"short", "Hi there", "Hi there"},
            {"first line", "  Line one  \nline two", "Line one"},
            {"long", QStringLiteral("word ").repeated(20),
             QStringLiteral("word ").repeated(9).trimmed() + QChar(0x2026)},
            {"blank", "   ", "New chat"},
        });
    }

    void titles() {
        const auto [text, title] = textCase();
        QCOMPARE(ConversationsController::titleFrom(text), title);
    }

    // The CPU thread setting reaches the backend at the next load, is clamped, and is remembered.
    void cpuThreadsReachTheBackend() {
        QVERIFY(ModelController::defaultCpuThreads() >= 1);
        QSignalSpy changed(app_->models(), &ModelController::optionsChanged);
        app_->models()->setCpuThreads(1);
        QCOMPARE(changed.count(), 1);
        app_->models()->setCpuThreads(1);
        QCOMPARE(changed.count(), 1);  // no change, no signal
        app_->models()->setCpuThreads(-5);
        QCOMPARE(app_->models()->cpuThreads(), 0);
        app_->models()->setCpuThreads(3);
        QVERIFY(loadTinyModel(*app_));
        QVERIFY2(app_->models()->backendName().contains(QStringLiteral("3 threads")),
                 qPrintable(app_->models()->backendName()));
        QCOMPARE(app_->ui()->settings().value(QStringLiteral("models/cpuThreads")).toInt(), 3);
        app_->models()->setCpuThreads(0);
    }

    // What the export and import dialogs make of a typed path (no disk access), relative to
    // the folder they start in, and that the folder follows the last file used.
    void typedPathsBecomeFiles_data() {
        QTest::addColumn<QString>("typed");
        QTest::addColumn<QString>("file");  // {start} and {home} stand for those folders
        QTest::newRow("name") << "chat.md"
                              << "{start}/chat.md";
        QTest::newRow("relative folder") << "a/../b/./chat.md"
                                         << "{start}/b/chat.md";
        QTest::newRow("blanks around") << "  chat notes.md \t"
                                       << "{start}/chat notes.md";
        QTest::newRow("absolute") << "/tmp/x//y.json"
                                  << "/tmp/x/y.json";
        QTest::newRow("home") << "~"
                              << "{home}";
        QTest::newRow("in home") << "~/exports/a.txt"
                                 << "{home}/exports/a.txt";
        QTest::newRow("tilde in a name") << "~notes.md"
                                         << "{start}/~notes.md";
        QTest::newRow("file url") << "file:///tmp/a%20b.pdf"
                                  << "/tmp/a b.pdf";
        QTest::newRow("other url") << "https://example.org/a.md"
                                   << "";
        QTest::newRow("empty") << "   "
                               << "";
    }
    void typedPathsBecomeFiles() {
        QFETCH(QString, typed);
        QFETCH(QString, file);
        UiSettings* ui = app_->ui();
        file.replace(QStringLiteral("{start}"), ui->transferFolder())
            .replace(QStringLiteral("{home}"), QDir::homePath());
        const QUrl url = ui->typedFileUrl(typed);
        QCOMPARE(url.isLocalFile() ? url.toLocalFile() : QString(), file);
        if (!file.isEmpty()) QCOMPARE(ui->typedPath(url), file);
    }
    void transferFolderFollowsTheLastFile() {
        UiSettings* ui = app_->ui();
        const QString documents = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
        ui->settings().remove(QStringLiteral("transfer/folder"));
        QCOMPARE(ui->transferFolder(), documents.isEmpty() ? QDir::homePath() : documents);
        QSignalSpy changed(ui, &UiSettings::transferFolderChanged);
        ui->rememberTransferFile(QUrl::fromLocalFile(QStringLiteral("/srv/out/chat.md")));
        QCOMPARE(ui->transferFolder(), QStringLiteral("/srv/out"));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(ui->typedFileUrl(QStringLiteral("next.md")).toLocalFile(), QStringLiteral("/srv/out/next.md"));
        ui->rememberTransferFile(QUrl(QStringLiteral("https://example.org/a.md")));  // not a file: ignored
        QCOMPARE(ui->transferFolder(), QStringLiteral("/srv/out"));
        QCOMPARE(changed.count(), 1);
        ui->settings().remove(QStringLiteral("transfer/folder"));
    }
};

QTEST_MAIN(TestControllers)
#include "test_controllers.moc"
