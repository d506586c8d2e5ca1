// The real window, offscreen: load the tiny chat model, send a message, wait for the streamed
// reply, close everything, start again on the same database and find the conversation.
// Screenshots (light and dark) go to the build folder.

#include <QAccessible>
#include <QDir>
#include <QQmlApplicationEngine>
#include <QQuickItem>
#include <QQuickWindow>
#include <QSignalSpy>
#include <QTest>

#include "app/controllers/app_controller.h"
#include "app/qml_engine_setup.h"
#include "app/qml_plugins.h"
#include "tests/app/app_test_support.h"
#include "tests/ui/ui_test_support.h"

using namespace fm::app;
using fm::app::testing::environmentIn;
using fm::app::testing::RunningApp;
using fm::app::testing::saveScreenshot;
using fm::app::testing::tinyChatDir;
using fm::app::testing::typeText;
using fm::app::testing::waitForSignal;

namespace {

QString accessibleName(QQuickItem* item) {
    QAccessibleInterface* iface = QAccessible::queryAccessibleInterface(item);
    return iface ? iface->text(QAccessible::Name) : QString();
}

}  // namespace

class TestUi : public QObject {
    Q_OBJECT

private:
    QTemporaryDir dir_;
    qint64 conversationId_ = 0;
    QString reply_;

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(dir_.isValid());
        importStaticQmlPlugins();
    }

    void sendAMessageInTheWindow() {
        RunningApp run(environmentIn(dir_));
        QVERIFY2(run.window, qPrintable(run.warnings.join(QLatin1Char('\n'))));
        run.window->resize(1280, 820);
        QVERIFY(QTest::qWaitForWindowExposed(run.window));
        QVERIFY(saveScreenshot(run.window, QStringLiteral("ui-no-model.png")));

        QSignalSpy ready(run.app->models(), &ModelController::modelReady);
        run.app->models()->setBackend(QStringLiteral("cpu"));
        QVERIFY(run.app->models()->load(tinyChatDir()));
        QVERIFY(ready.wait(30000));
        run.app->chatSettings()->change({.temperature = 0, .maxNewTokens = 60});

        // Type into the composer and press Enter, as a user would.
        QTRY_VERIFY(run.window->property("page").toString() == QStringLiteral("chat"));
        auto* input = run.window->findChild<QQuickItem*>(QStringLiteral("composerInput"));
        QVERIFY(input);
        QCOMPARE(accessibleName(input), QStringLiteral("Message"));
        QTRY_VERIFY(input->isEnabled());
        input->forceActiveFocus();
        QTRY_VERIFY(input->hasActiveFocus());
        QSignalSpy saved(run.app->chat(), &ChatController::replySaved);
        typeText(run.window, QStringLiteral("Write a haiku about falcons"));
        QTest::keyClick(run.window, Qt::Key_Return, Qt::ShiftModifier);  // a line break, not a send
        typeText(run.window, QStringLiteral("and mambas"));
        QCOMPARE(run.app->chat()->messages()->count(), 0);
        QTest::keyClick(run.window, Qt::Key_Return);
        // The key click runs the event loop: the reply may be saved before it returns.
        QVERIFY(waitForSignal(saved, 30000));

        auto* messages = run.app->chat()->messages();
        QCOMPARE(messages->count(), 2);
        QCOMPARE(messages->data(messages->index(0), fm::MessageListModel::ContentRole).toString(),
                 QStringLiteral("Write a haiku about falcons\nand mambas"));
        reply_ = messages->data(messages->index(1), fm::MessageListModel::ContentRole).toString();
        QVERIFY(!reply_.isEmpty());
        conversationId_ = run.app->conversations()->currentConversationId();
        QCOMPARE(run.app->conversations()->currentTitle(), QStringLiteral("Write a haiku about falcons"));
        QTest::qWait(100);  // let the view settle before the picture
        QVERIFY(saveScreenshot(run.window, QStringLiteral("ui-chat-light.png")));

        QObject* drawer = run.window->findChild<QObject*>(QStringLiteral("settingsDrawer"));
        QVERIFY(drawer);
        QMetaObject::invokeMethod(drawer, "open");
        QTest::qWait(400);  // the slide-in animation
        QVERIFY(saveScreenshot(run.window, QStringLiteral("ui-settings-light.png")));
        QMetaObject::invokeMethod(drawer, "close");
        QTest::qWait(400);

        run.app->ui()->setTheme(QStringLiteral("dark"));
        QTest::qWait(100);
        QVERIFY(saveScreenshot(run.window, QStringLiteral("ui-chat-dark.png")));
        run.window->setProperty("page", QStringLiteral("models"));
        QTest::qWait(100);
        QVERIFY(saveScreenshot(run.window, QStringLiteral("ui-models-dark.png")));
        run.app->ui()->setTheme(QStringLiteral("light"));
        QVERIFY(saveScreenshot(run.window, QStringLiteral("ui-models-light.png")));
        QVERIFY2(run.warnings.isEmpty(), qPrintable(run.warnings.join(QLatin1Char('\n'))));
        // Closing saves the geometry; the next start restores it.
        run.window->resize(1111, 777);
        QTRY_COMPARE(run.window->width(), 1111);
        run.window->close();
    }

    void theConversationIsThereAfterARestart() {
        QVERIFY(conversationId_ != 0);
        RunningApp run(environmentIn(dir_));
        QVERIFY(run.window);
        QVERIFY(QTest::qWaitForWindowExposed(run.window));
        auto* list = run.app->conversations()->list();
        QVERIFY(list->rowOf(conversationId_) >= 0);
        // The most recent conversation is shown again, with its messages.
        QCOMPARE(run.app->conversations()->currentConversationId(), conversationId_);
        auto* messages = run.app->chat()->messages();
        QCOMPARE(messages->count(), 2);
        QCOMPARE(messages->data(messages->index(1), fm::MessageListModel::ContentRole).toString(), reply_);
        QCOMPARE(messages->data(messages->index(1), fm::MessageListModel::StatusRole).toString(),
                 QStringLiteral("complete"));
        // The window came back where it was (geometry kept in QSettings).
        QCOMPARE(run.window->width(), 1111);
        QCOMPARE(run.window->height(), 777);
        // Search finds it by message text.
        list->setFilter(QStringLiteral("haiku"));
        QCOMPARE(list->count(), 1);
        QCOMPARE(list->idAt(0), conversationId_);
        QTest::qWait(100);
        QVERIFY(saveScreenshot(run.window, QStringLiteral("ui-search.png")));
        QVERIFY2(run.warnings.isEmpty(), qPrintable(run.warnings.join(QLatin1Char('\n'))));
    }

    void everyControlHasAnAccessibleName() {
        RunningApp run(environmentIn(dir_));
        QVERIFY(run.window);
        QVERIFY(QTest::qWaitForWindowExposed(run.window));
        QStringList unnamed;
        const std::function<void(QQuickItem*)> visit = [&](QQuickItem* item) {
            const QByteArray className = item->metaObject()->className();
            const bool control = className.contains("Button") || className.contains("TextField") ||
                                 className.contains("TextArea") || className.contains("Slider") ||
                                 className.contains("SpinBox") || className.contains("Switch") ||
                                 className.contains("ItemDelegate");
            if (control && item->isVisible() && accessibleName(item).trimmed().isEmpty())
                unnamed << QString::fromLatin1(className);
            for (QQuickItem* child : item->childItems()) visit(child);
        };
        visit(run.window->contentItem());
        QVERIFY2(unnamed.isEmpty(), qPrintable(unnamed.join(QStringLiteral(", "))));
    }
};

QTEST_MAIN(TestUi)
#include "test_ui.moc"
