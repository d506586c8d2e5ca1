// A long, Markdown-heavy conversation in the real window, offscreen: 2,000 messages (code
// blocks, tables, lists, quotes, raw HTML), scrolled top <-> bottom and resized 200 times
// while a reply streams into the last row. The window must neither crash nor log a single
// QML warning. (Built into the asan preset too, where it runs under AddressSanitizer.)

#include <QQuickItem>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTimer>

#include "app/qml_plugins.h"
#include "app/storage/conversation_store.h"
#include "app/storage/database.h"
#include "tests/app/app_test_support.h"
#include "tests/ui/ui_test_support.h"

using namespace fm::app;
using fm::app::testing::environmentIn;
using fm::app::testing::RunningApp;

namespace {

// The i-th message: every few messages another mix of blocks, so recycled delegates change
// their number and kind of blocks as the view scrolls.
QString markdownMessage(int i) {
    QStringList parts;
    parts << QStringLiteral("Message %1 with **bold**, *italic* and `inline code`.").arg(i);
    switch (i % 6) {
    case 0: parts << QStringLiteral("```cpp\nint main() {\n    return %1;\n}\n```").arg(i); break;
    case 1:
        parts << QStringLiteral("| Name | Value |\n|:-----|------:|\n| alpha | %1 |\n| beta | %2 |").arg(i).arg(i * 2);
        break;
    case 2: parts << QStringLiteral("- one\n  - nested two\n    - nested three\n- four\n\n1. first\n2. second"); break;
    case 3:
        parts << QStringLiteral("> quoted line %1\n> second quoted line").arg(i);
        parts << QStringLiteral("## Heading %1").arg(i);
        break;
    case 4:
        parts << QStringLiteral(
            "Raw <b>html</b> and a break<br>after it, <img src=\"x.png\"> and <span style=\"color:red\">red");
        parts << QStringLiteral("```\nplain code\n```\n\ntext between\n\n```python\nprint(%1)\n```").arg(i);
        break;
    default:
        parts << QStringLiteral(
                     "A longer paragraph that wraps across several lines of the view, so that the "
                     "height of this row depends on the width of the window: %1.")
                     .arg(QString(QStringLiteral("word ")).repeated(40));
        break;
    }
    return parts.join(QStringLiteral("\n\n"));
}

qint64 createLongConversation(const QString& databasePath, int messageCount) {
    fm::Database db;
    if (!db.open(databasePath)) return 0;
    fm::ConversationStore store(db);
    QList<fm::NewMessage> messages;
    for (int i = 0; i < messageCount; ++i) {
        fm::NewMessage m;
        m.role = i % 2 == 0 ? fm::MessageRole::User : fm::MessageRole::Assistant;
        m.content = markdownMessage(i);
        messages << m;
    }
    auto conversation = store.importConversation(QStringLiteral("Long Markdown"), {}, messages);
    return conversation ? conversation->id : 0;
}

}  // namespace

class TestUiStress : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        importStaticQmlPlugins();
        // Any warning from the window's QML (binding loops, type errors) fails the test.
        QTest::failOnWarning(QRegularExpression(QStringLiteral("^qrc:")));
    }

    void scrollAndResizeALongMarkdownConversationWhileAReplyStreams() {
        constexpr int kMessages = 2000;
        constexpr int kRounds = 200;
        QTemporaryDir dir;
        const AppEnvironment env = environmentIn(dir);
        QDir().mkpath(env.dataDir);
        const qint64 conversationId = createLongConversation(env.databasePath(), kMessages);
        QVERIFY(conversationId != 0);

        RunningApp run(env);
        QVERIFY2(run.window, qPrintable(run.warnings.join(QLatin1Char('\n'))));
        QVERIFY(QTest::qWaitForWindowExposed(run.window));
        auto* messages = run.app->chat()->messages();
        QCOMPARE(run.app->conversations()->currentConversationId(), conversationId);
        QCOMPARE(messages->count(), kMessages);
        auto* list = run.find("messageList");
        QVERIFY(list);

        // A reply streams into the last row, a few characters every 5 ms, as the controller
        // feeds the model from the worker's tokens (Markdown that opens and closes blocks).
        const qint64 streamingId = messages->idAt(kMessages - 1);
        fm::Message streaming;
        streaming.id = streamingId;
        streaming.conversationId = conversationId;
        streaming.role = fm::MessageRole::Assistant;
        streaming.status = fm::MessageStatus::Streaming;
        QVERIFY(messages->updateMessage(streaming));
        const QString replyText = markdownMessage(0) + QStringLiteral("\n\n") + markdownMessage(1) +
                                  QStringLiteral("\n\n") + markdownMessage(4) + QStringLiteral("\n\n");
        int streamed = 0;
        QTimer streamer;
        streamer.setInterval(5);
        connect(&streamer, &QTimer::timeout, this, [&] {
            const QString piece = replyText.mid(streamed % replyText.size(), 7);
            streamed += static_cast<int>(piece.size());
            messages->appendStreamingText(streamingId, piece);
        });
        streamer.start();

        const QList<QSize> sizes{{1280, 820}, {880, 560}, {1600, 1000}, {1000, 700}, {940, 1200}};
        for (int round = 0; round < kRounds; ++round) {
            run.window->resize(sizes.at(round % sizes.size()));
            QMetaObject::invokeMethod(list, round % 2 == 0 ? "positionViewAtBeginning" : "positionViewAtEnd");
            QTest::qWait(5);
            // Flick part of the way back too, so delegates are recycled in both directions.
            list->setProperty("contentY", list->property("contentY").toReal() + (round % 2 == 0 ? 3000 : -3000));
            QTest::qWait(5);
        }
        streamer.stop();
        run.window->resize(1280, 820);
        QMetaObject::invokeMethod(list, "positionViewAtIndex", Q_ARG(int, 1),
                                  Q_ARG(int, 0));  // QQuickItemView::Beginning
        QTest::qWait(100);
        QVERIFY(fm::app::testing::saveScreenshot(run.window, QStringLiteral("ui-markdown.png")));
        qInfo("streamed %d characters over %d rounds", streamed, kRounds);
        QVERIFY(streamed > 0);
        QCOMPARE(messages->count(), kMessages);
        QVERIFY2(run.warnings.isEmpty(), qPrintable(run.warnings.join(QLatin1Char('\n'))));
    }
};

QTEST_MAIN(TestUiStress)
#include "test_ui_stress.moc"
