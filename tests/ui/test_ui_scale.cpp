// The window at 200% (QT_SCALE_FACTOR=2), at its minimum size: every visible control lies
// inside the window, on the chat page and the models page, in light and dark, with text zoom
// at 100% and 150%. Saves the 200% screenshot.

#include <QGuiApplication>
#include <QQuickItem>

#include "app/qml_plugins.h"
#include "app/storage/conversation_store.h"
#include "app/storage/database.h"
#include "tests/app/app_test_support.h"
#include "tests/ui/ui_test_support.h"

using namespace fm::app;
using fm::app::testing::environmentIn;
using fm::app::testing::RunningApp;

namespace {

bool isControl(const QQuickItem* item) {
    const QByteArray name = item->metaObject()->className();
    for (const char* kind : {"Button", "TextField", "TextArea", "Slider", "SpinBox", "Switch", "ComboBox",
                             "ItemDelegate", "CheckBox", "Label"})
        if (name.contains(kind)) return true;
    return false;
}

bool visibleInScene(const QQuickItem* item) {
    for (; item; item = item->parentItem())
        if (!item->isVisible() || item->opacity() <= 0.0) return false;
    return true;
}

// The view that scrolls `item`, if any: the views here scroll vertically only, so a control
// in one may lie above or below it, never to its left or right.
const QQuickItem* scrollingView(const QQuickItem* item) {
    for (const QQuickItem* parent = item->parentItem(); parent; parent = parent->parentItem())
        if (parent->inherits("QQuickFlickable")) return parent;
    return nullptr;
}

// "ClassName 'text' at x,y wxh" for each visible control sticking out of the window.
QStringList controlsOutside(QQuickWindow* window) {
    QStringList outside;
    const QRectF bounds(0, 0, window->width(), window->height());
    const std::function<void(QQuickItem*)> visit = [&](QQuickItem* item) {
        if (isControl(item) && visibleInScene(item) && item->width() > 0 && item->height() > 0) {
            const QRectF rect = item->mapRectToScene(QRectF(0, 0, item->width(), item->height()));
            QRectF allowed = bounds;
            if (const QQuickItem* view = scrollingView(item)) {
                const QRectF viewRect = view->mapRectToScene(QRectF(0, 0, view->width(), view->height()));
                allowed = QRectF(viewRect.x(), -1e9, viewRect.width(), 2e9);  // any height, the view's width
            }
            if (!allowed.adjusted(-0.5, -0.5, 0.5, 0.5).contains(rect))
                outside << QStringLiteral("%1 '%2' at %3,%4 %5x%6")
                               .arg(QString::fromLatin1(item->metaObject()->className()),
                                    item->property("text").toString().left(30))
                               .arg(rect.x())
                               .arg(rect.y())
                               .arg(rect.width())
                               .arg(rect.height());
        }
        for (QQuickItem* child : item->childItems()) visit(child);
    };
    visit(window->contentItem());
    return outside;
}

}  // namespace

class TestUiScale : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        QCOMPARE(qgetenv("QT_SCALE_FACTOR"), QByteArray("2"));
        QStandardPaths::setTestModeEnabled(true);
        importStaticQmlPlugins();
    }

    void everyControlInsideAtMinimumSize_data() {
        QTest::addColumn<QString>("page");
        QTest::addColumn<QString>("theme");
        QTest::addColumn<double>("textScale");
        QTest::newRow("chat, light") << "chat"
                                     << "light" << 1.0;
        QTest::newRow("chat, dark, text 150%") << "chat"
                                               << "dark" << 1.5;
        QTest::newRow("models, light") << "models"
                                       << "light" << 1.0;
        QTest::newRow("models, dark, text 150%") << "models"
                                                 << "dark" << 1.5;
    }
    void everyControlInsideAtMinimumSize() {
        QFETCH(QString, page);
        QFETCH(QString, theme);
        QFETCH(double, textScale);
        QTemporaryDir dir;
        const AppEnvironment env = environmentIn(dir);
        QDir().mkpath(env.dataDir);
        {
            fm::Database db;
            QVERIFY(db.open(env.databasePath()));
            fm::ConversationStore store(db);
            fm::NewMessage question{fm::MessageRole::User,
                                    QStringLiteral("How do state-space models keep memory flat?")};
            fm::NewMessage answer{
                fm::MessageRole::Assistant,
                QStringLiteral("They carry a **fixed-size state**:\n\n| model | memory |\n|---|--:|\n| "
                               "Mamba | flat |\n\n```python\nstate = step(state, token)\n```")};
            QVERIFY(store.importConversation(QStringLiteral("A long title that has to be elided somewhere"), {},
                                             {question, answer}));
        }
        RunningApp run(env);
        QVERIFY(run.window);
        QVERIFY(QTest::qWaitForWindowExposed(run.window));
        QCOMPARE(run.window->devicePixelRatio(), 2.0);
        run.app->ui()->setTheme(theme);
        run.app->ui()->setTextScale(textScale);
        run.window->setProperty("page", page);
        const QSize minimum = run.window->minimumSize();
        // The minimum fits a 1920x1080 screen at 200% (960x540, less a desktop panel).
        QVERIFY2(minimum.width() <= 960 && minimum.height() <= 500,
                 qPrintable(QStringLiteral("minimum %1x%2").arg(minimum.width()).arg(minimum.height())));
        run.window->resize(minimum);
        QTRY_COMPARE(run.window->size(), minimum);
        QTest::qWait(200);  // the layouts settle
        QVERIFY(fm::app::testing::saveScreenshot(
            run.window,
            QStringLiteral("ui-minimum-200-percent-%1-%2.png").arg(page, QString::number(qRound(textScale * 100)))));
        const QStringList outside = controlsOutside(run.window);
        QVERIFY2(outside.isEmpty(), qPrintable(outside.join(QLatin1Char('\n'))));
        QVERIFY2(run.warnings.isEmpty(), qPrintable(run.warnings.join(QLatin1Char('\n'))));
        if (page == QStringLiteral("chat") && theme == QStringLiteral("light")) {
            run.window->resize(1100, 700);
            QTest::qWait(200);
            QVERIFY(fm::app::testing::saveScreenshot(run.window, QStringLiteral("ui-chat-200-percent.png")));
        }
    }
};

int main(int argc, char* argv[]) {
    // Before the application exists: Qt reads it once.
    qputenv("QT_SCALE_FACTOR", "2");
    QGuiApplication application(argc, argv);
    TestUiScale test;
    return QTest::qExec(&test, argc, argv);
}
#include "test_ui_scale.moc"
