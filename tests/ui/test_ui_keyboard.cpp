// The window's keyboard map, key by key, as key events on the QQuickWindow: every shortcut
// with the focus in the message box and outside it (the conversation list, the messages),
// and the Tab / Shift+Tab cycle through the regions.

#include <QClipboard>
#include <QGuiApplication>
#include <QSignalSpy>

#include "app/export/export_controller.h"
#include "app/qml_plugins.h"
#include "app/storage/conversation_store.h"
#include "app/storage/database.h"
#include "app/worker/inference_worker.h"
#include "tests/app/app_test_support.h"
#include "tests/app/token_pace.h"
#include "tests/ui/ui_test_support.h"

using namespace fm::app;
using fm::app::testing::environmentIn;
using fm::app::testing::RunningApp;
using fm::app::testing::tinyChatDir;
using fm::app::testing::waitForSignal;

namespace {

const QStringList kRegions{QStringLiteral("searchField"), QStringLiteral("conversationList"),
                           QStringLiteral("messageList"), QStringLiteral("composerInput")};

// The region (objectName) that holds the keyboard focus, or the focused item's class.
QString focusedRegion(QQuickWindow* window) {
    for (QQuickItem* item = window->activeFocusItem(); item; item = item->parentItem())
        if (kRegions.contains(item->objectName())) return item->objectName();
    return window->activeFocusItem() ? QString::fromLatin1(window->activeFocusItem()->metaObject()->className())
                                     : QStringLiteral("(none)");
}

}  // namespace

class TestUiKeyboard : public QObject {
    Q_OBJECT

private:
    QTemporaryDir dir_;
    std::unique_ptr<RunningApp> run_;
    qint64 conversationId_ = 0;
    qint64 zooId_ = 0;

    void focusOn(const QString& region) {
        auto* item = run_->window->findChild<QQuickItem*>(region);
        QVERIFY2(item, qPrintable(region));
        item->forceActiveFocus(Qt::TabFocusReason);
        QTRY_COMPARE(focusedRegion(run_->window), region);
    }
    void key(Qt::Key key, Qt::KeyboardModifiers modifiers = Qt::NoModifier) {
        QTest::keyClick(run_->window, key, modifiers);
    }
    ChatController* chat() { return run_->app->chat(); }
    QObject* find(const char* name) { return run_->window->findChild<QObject*>(QString::fromLatin1(name)); }

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        importStaticQmlPlugins();
        QVERIFY(dir_.isValid());
        const AppEnvironment env = environmentIn(dir_);
        QDir().mkpath(env.dataDir);
        {
            fm::Database db;
            QVERIFY(db.open(env.databasePath()));
            fm::ConversationStore store(db);
            QList<fm::NewMessage> messages;
            for (int i = 0; i < 4; ++i) {
                fm::NewMessage m;
                m.role = i % 2 == 0 ? fm::MessageRole::User : fm::MessageRole::Assistant;
                m.content = QStringLiteral("message number %1").arg(i);
                messages << m;
            }
            QList<fm::NewMessage> zoo;
            for (int i = 0; i < 40; ++i) {
                fm::NewMessage m;
                m.role = i % 2 == 0 ? fm::MessageRole::User : fm::MessageRole::Assistant;
                m.content = i == 27 ? QStringLiteral("Here is the zebra you asked about.")
                                    : QStringLiteral("Line %1 of a long chat about animals.\n\nMore text.").arg(i);
                zoo << m;
            }
            auto zooConversation = store.importConversation(QStringLiteral("Zoo"), {}, zoo);
            QVERIFY(zooConversation);
            zooId_ = zooConversation->id;
            auto conversation = store.importConversation(QStringLiteral("Keys"), {}, messages);
            QVERIFY(conversation);
            conversationId_ = conversation->id;
        }
        run_ = std::make_unique<RunningApp>(env);
        QVERIFY(run_->window);
        QVERIFY(QTest::qWaitForWindowExposed(run_->window));
        run_->window->requestActivate();
        QVERIFY(QTest::qWaitForWindowActive(run_->window));
        QSignalSpy ready(run_->app->models(), &ModelController::modelReady);
        run_->app->models()->setBackend(QStringLiteral("cpu"));
        QVERIFY(run_->app->models()->load(tinyChatDir()));
        QVERIFY(ready.wait(30000));
        run_->app->chatSettings()->change({.temperature = 0, .maxNewTokens = 20});
        QTRY_COMPARE(run_->window->property("page").toString(), QStringLiteral("chat"));
    }
    void init() {
        // Every row starts on the imported conversation, on the chat page, nothing open.
        if (run_->app->conversations()->currentConversationId() != conversationId_)
            QVERIFY(run_->app->conversations()->selectConversation(conversationId_));
        run_->window->setProperty("page", QStringLiteral("chat"));
        QTRY_VERIFY(!run_->app->chat()->isGenerating());
    }
    void cleanupTestCase() {
        QVERIFY2(run_->warnings.isEmpty(), qPrintable(run_->warnings.join(QLatin1Char('\n'))));
        run_.reset();
    }

    void shortcuts_data() {
        QTest::addColumn<QString>("focus");
        for (const char* focus : {"composerInput", "conversationList", "messageList"})
            QTest::newRow(focus) << QString::fromLatin1(focus);
    }
    void shortcuts() {
        QFETCH(QString, focus);

        // Ctrl+N: a new chat.
        focusOn(focus);
        key(Qt::Key_N, Qt::ControlModifier);
        QTRY_VERIFY(run_->app->conversations()->currentConversationId() != conversationId_);
        QVERIFY(run_->app->conversations()->selectConversation(conversationId_));

        // Ctrl+K and Ctrl+F: the search field.
        for (Qt::Key k : {Qt::Key_K, Qt::Key_F}) {
            focusOn(focus);
            key(k, Qt::ControlModifier);
            QTRY_COMPARE(focusedRegion(run_->window), QStringLiteral("searchField"));
        }

        // Ctrl+Shift+C: the last reply on the clipboard.
        focusOn(focus);
        QGuiApplication::clipboard()->clear();
        key(Qt::Key_C, Qt::ControlModifier | Qt::ShiftModifier);
        auto* messages = run_->app->chat()->messages();
        const QString lastReply = messages->data(messages->index(3), fm::MessageListModel::ContentRole).toString();
        QTRY_COMPARE(QGuiApplication::clipboard()->text(), lastReply);

        // Ctrl+Shift+R: a new version of the last reply.
        focusOn(focus);
        const int versions = messages->data(messages->index(3), fm::MessageListModel::SiblingCountRole).toInt();
        QSignalSpy saved(chat(), &ChatController::replySaved);
        key(Qt::Key_R, Qt::ControlModifier | Qt::ShiftModifier);
        QVERIFY(waitForSignal(saved, 30000));
        QCOMPARE(messages->data(messages->index(3), fm::MessageListModel::SiblingCountRole).toInt(), versions + 1);

        // Esc: stops a reply being written.
        run_->app->worker()->setTokenPacer(fm::app::testing::tokenPace(50));
        run_->app->chatSettings()->change({.maxNewTokens = 400});
        saved.clear();
        QVERIFY(run_->app->chat()->regenerate());
        focusOn(focus);
        QTRY_VERIFY(run_->app->chat()->isGenerating());
        key(Qt::Key_Escape);
        QVERIFY(waitForSignal(saved, 5000));
        QVERIFY(!run_->app->chat()->isGenerating());
        run_->app->worker()->setTokenPacer(fm::app::testing::tokenPace(0));
        run_->app->chatSettings()->change({.maxNewTokens = 20});

        // Ctrl+E and Ctrl+O: the export and import dialogs, the path field focused; Esc closes.
        for (const auto& [k, name] : {std::pair{Qt::Key_E, "exportDialog"}, std::pair{Qt::Key_O, "importDialog"}}) {
            focusOn(focus);
            QObject* dialog = find(name);
            QVERIFY(dialog);
            key(k, Qt::ControlModifier);
            QTRY_VERIFY(dialog->property("opened").toBool());
            QTRY_COMPARE(run_->window->activeFocusItem()->objectName(), QStringLiteral("transferPath"));
            key(Qt::Key_Escape);
            QTRY_VERIFY(!dialog->property("visible").toBool());
        }

        // Ctrl+L: the models page and back.
        focusOn(focus);
        key(Qt::Key_L, Qt::ControlModifier);
        QTRY_COMPARE(run_->window->property("page").toString(), QStringLiteral("models"));
        key(Qt::Key_L, Qt::ControlModifier);
        QTRY_COMPARE(run_->window->property("page").toString(), QStringLiteral("chat"));

        // Ctrl+M: the memory panel, off and on.
        focusOn(focus);
        const bool panel = run_->app->ui()->memoryPanelVisible();
        key(Qt::Key_M, Qt::ControlModifier);
        QTRY_COMPARE(run_->app->ui()->memoryPanelVisible(), !panel);
        key(Qt::Key_M, Qt::ControlModifier);
        QTRY_COMPARE(run_->app->ui()->memoryPanelVisible(), panel);

        // Ctrl+,: the generation settings.
        focusOn(focus);
        QObject* drawer = find("settingsDrawer");
        QVERIFY(drawer);
        key(Qt::Key_Comma, Qt::ControlModifier);
        QTRY_VERIFY(drawer->property("opened").toBool());
        QMetaObject::invokeMethod(drawer, "close");
        QTRY_VERIFY(!drawer->property("visible").toBool());

        // Ctrl+= / Ctrl++ / Ctrl+- / Ctrl+0: text zoom.
        focusOn(focus);
        QCOMPARE(run_->app->ui()->textScale(), 1.0);
        key(Qt::Key_Equal, Qt::ControlModifier);
        QTRY_COMPARE(run_->app->ui()->textScale(), 1.1);
        key(Qt::Key_Plus, Qt::ControlModifier);
        QTRY_COMPARE(run_->app->ui()->textScale(), 1.2);
        key(Qt::Key_Minus, Qt::ControlModifier);
        QTRY_COMPARE(run_->app->ui()->textScale(), 1.1);
        key(Qt::Key_0, Qt::ControlModifier);
        QTRY_COMPARE(run_->app->ui()->textScale(), 1.0);

        // Ctrl+/: the shortcuts overlay; Esc closes it.
        focusOn(focus);
        QObject* overlay = find("shortcutsOverlay");
        QVERIFY(overlay);
        key(Qt::Key_Slash, Qt::ControlModifier);
        QTRY_VERIFY(overlay->property("opened").toBool());
        key(Qt::Key_Escape);
        QTRY_VERIFY(!overlay->property("visible").toBool());
    }

    void exportAndImportTakeATypedPath() {
        // Ctrl+E, type a path (its suffix picks the format), Enter: the chat is written there.
        QTemporaryDir out;
        QVERIFY(out.isValid());
        focusOn(QStringLiteral("composerInput"));
        key(Qt::Key_E, Qt::ControlModifier);
        QObject* exportDialog = find("exportDialog");
        QTRY_VERIFY(exportDialog->property("opened").toBool());
        QQuickItem* path = run_->window->activeFocusItem();
        QTRY_COMPARE(path->objectName(), QStringLiteral("transferPath"));
        const QString suggested = path->property("text").toString();
        QVERIFY2(suggested.startsWith(run_->app->ui()->transferFolder() + QLatin1Char('/')), qPrintable(suggested));
        QVERIFY2(suggested.endsWith(QStringLiteral("Keys.md")), qPrintable(suggested));
        key(Qt::Key_A, Qt::ControlModifier);
        fm::app::testing::typeText(run_->window, out.filePath(QStringLiteral("sub/../keys chat.json")));
        QSignalSpy exported(run_->app->exporter(), &fm::ExportController::exportFinished);
        key(Qt::Key_Return);
        QVERIFY(waitForSignal(exported, 30000));
        QVERIFY2(exported.first().at(0).toBool(), qPrintable(exported.first().at(1).toString()));
        QFile written(out.filePath(QStringLiteral("keys chat.json")));
        QVERIFY(written.open(QIODevice::ReadOnly));
        const QByteArray json = written.readAll();
        QVERIFY(json.trimmed().startsWith('{'));
        QVERIFY(json.contains("message number 3"));
        QCOMPARE(run_->app->ui()->transferFolder(), out.path());

        // Ctrl+O starts in that folder, so the file's name is enough; Enter imports it.
        key(Qt::Key_O, Qt::ControlModifier);
        QObject* importDialog = find("importDialog");
        QTRY_VERIFY(importDialog->property("opened").toBool());
        path = run_->window->activeFocusItem();
        QTRY_COMPARE(path->objectName(), QStringLiteral("transferPath"));
        QCOMPARE(path->property("text").toString(), out.path() + QLatin1Char('/'));
        key(Qt::Key_A, Qt::ControlModifier);
        fm::app::testing::typeText(run_->window, QStringLiteral("keys chat.json"));
        QSignalSpy imported(run_->app->exporter(), &fm::ExportController::importFinished);
        key(Qt::Key_Return);
        QVERIFY(waitForSignal(imported, 30000));
        QVERIFY2(imported.first().at(0).toBool(), qPrintable(imported.first().at(1).toString()));
        QCOMPARE(imported.first().at(2).toList().size(), 1);
        QTRY_VERIFY(!importDialog->property("visible").toBool());
    }

    void tabCyclesTheRegions_data() {
        QTest::addColumn<bool>("backwards");
        QTest::newRow("Tab") << false;
        QTest::newRow("Shift+Tab") << true;
    }
    void tabCyclesTheRegions() {
        QFETCH(bool, backwards);
        focusOn(QStringLiteral("composerInput"));
        QStringList visited;
        for (int press = 0; press < 12; ++press) {
            if (backwards)
                key(Qt::Key_Backtab, Qt::ShiftModifier);
            else
                key(Qt::Key_Tab);
            const QString region = focusedRegion(run_->window);
            visited << region;
            if (region == QStringLiteral("composerInput")) break;
        }
        // The regions in order, back to the message box, with at most a few other stops
        // (the send button, the model button, the memory panel's controls) between them.
        QStringList regions;
        for (const QString& stop : visited)
            if (kRegions.contains(stop)) regions << stop;
        QStringList expected{QStringLiteral("searchField"), QStringLiteral("conversationList"),
                             QStringLiteral("messageList"), QStringLiteral("composerInput")};
        if (backwards) {
            std::reverse(expected.begin(), expected.end() - 1);
        }
        QVERIFY2(regions == expected, qPrintable(visited.join(QStringLiteral(" -> "))));
        QVERIFY2(visited.size() <= 9, qPrintable(visited.join(QStringLiteral(" -> "))));
    }

    void aSearchHitOpensAtTheMessage() {
        // Type a search, Tab to the results, Enter: the chat opens at the matching message.
        focusOn(QStringLiteral("searchField"));
        fm::app::testing::typeText(run_->window, QStringLiteral("zebra"));
        QTRY_COMPARE(run_->app->conversations()->list()->count(), 1);
        key(Qt::Key_Tab);
        QTRY_COMPARE(focusedRegion(run_->window), QStringLiteral("conversationList"));
        key(Qt::Key_Return);
        QTRY_COMPARE(run_->app->conversations()->currentConversationId(), zooId_);
        auto* list = run_->window->findChild<QQuickItem*>(QStringLiteral("messageList"));
        QTRY_COMPARE(focusedRegion(run_->window), QStringLiteral("messageList"));
        QTRY_COMPARE(list->property("currentIndex").toInt(), 27);
        QTRY_COMPARE(list->property("highlightedRow").toInt(), 27);
        // In sight: the row at the middle of the view is the hit.
        QTest::qWait(100);
        int middle = -1;
        QMetaObject::invokeMethod(list, "indexAt", Q_RETURN_ARG(int, middle), Q_ARG(qreal, list->width() / 2),
                                  Q_ARG(qreal, list->property("contentY").toReal() + list->height() / 2));
        QCOMPARE(middle, 27);
        // Clearing the search brings back the list in date groups.
        focusOn(QStringLiteral("searchField"));
        key(Qt::Key_Escape);
        QTRY_VERIFY(!run_->app->conversations()->list()->isSearching());
        QTRY_VERIFY(run_->app->conversations()->list()->count() >= 2);
    }

    void regionKeys() {
        // The conversation list: Down/Up move the selection, Enter opens.
        focusOn(QStringLiteral("conversationList"));
        auto* list = run_->window->findChild<QQuickItem*>(QStringLiteral("conversationList"));
        QTRY_COMPARE(run_->app->conversations()->list()->idAt(list->property("currentIndex").toInt()), conversationId_);
        // The messages: Up selects the previous one, Ctrl+C copies it.
        focusOn(QStringLiteral("messageList"));
        auto* messages = run_->window->findChild<QQuickItem*>(QStringLiteral("messageList"));
        QTRY_COMPARE(messages->property("currentIndex").toInt(), run_->app->chat()->messages()->count() - 1);
        key(Qt::Key_Up);
        QTRY_COMPARE(messages->property("currentIndex").toInt(), run_->app->chat()->messages()->count() - 2);
        QGuiApplication::clipboard()->clear();
        key(Qt::Key_C, Qt::ControlModifier);
        QTRY_COMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("message number 2"));
    }
};

QTEST_MAIN(TestUiKeyboard)
#include "test_ui_keyboard.moc"
