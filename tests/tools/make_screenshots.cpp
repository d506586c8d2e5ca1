// The main window's pictures for the AppStream metadata and the docs, made offscreen with a
// few demonstration chats (the replies are written here: the test model's own replies are
// noise). Usage: make_screenshots OUT_DIR [SUFFIX]; installer/make-screenshots.sh runs it at
// 100% and at QT_SCALE_FACTOR=2. Writes main-light and main-dark PNGs (SUFFIX appended to
// each name), after one short real reply so that the memory panel has data.

#include <QGuiApplication>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <cstdio>

#include "app/qml_plugins.h"
#include "app/storage/conversation_store.h"
#include "app/storage/database.h"
#include "app/worker/inference_worker.h"
#include "tests/app/app_test_support.h"
#include "tests/ui/ui_test_support.h"

using namespace fm::app;

namespace {

struct DemoChat {
    const char* title;
    QList<const char*> turns;  // user, assistant, user, ...
};

const QList<DemoChat> kDemoChats = {
    {"Plan a weekend in Lisbon",
     {"Plan a relaxed weekend in Lisbon for two, with good food and not too much walking.",
      "Here is an easy-going plan:\n\n**Saturday**\n- Morning: tram 28 through Alfama, then coffee at a "
      "*miradouro*\n- Lunch: grilled sardines near the river\n- Evening: fado in a small tavern\n\n"
      "**Sunday**\n- Belém: the monastery and *pastéis de nata*\n- Sunset at the LX Factory"}},
    {"Explain state-space models",
     {"How is a state-space model different from a transformer?",
      "A transformer looks back at every earlier token, so its cache grows with the conversation. A "
      "state-space model such as Mamba folds everything it has read into a **fixed-size state**: "
      "memory and time per token stay flat however long the chat gets."}},
    {"Haiku about falcons",
     {"Write a haiku about falcons and mambas.",
      "Falcon cuts the wind,\nmamba coils in the warm grass —\nboth wait, then they strike."}},
    {"Read a large CSV file in Python",
     {"How do I read a 20 GB CSV file in Python without running out of memory?",
      "Read it in **chunks**, so only a slice is in memory at a time:\n\n"
      "```python\nimport pandas as pd\n\ntotal = 0\nfor chunk in pd.read_csv(\"big.csv\", chunksize=100_000):\n"
      "    total += chunk[\"amount\"].sum()\nprint(total)\n```\n\n"
      "| approach | memory | speed |\n|---|---|---|\n| `read_csv` whole file | the whole file | fast |\n"
      "| `chunksize` | one chunk | fast |\n| `csv` module, row by row | one row | slower |\n\n"
      "> Tip: pass `usecols=[...]` and `dtype=` to read only what you need.",
      "Can I filter rows while reading?",
      "Yes: filter each chunk before keeping it, e.g. `chunk[chunk.amount > 0]`, and append the "
      "results to a list that you `pd.concat` at the end."}},
};

bool fail(const char* what) {
    std::fprintf(stderr, "make_screenshots: %s\n", what);
    return false;
}

bool seedDemoChats(const QString& databasePath) {
    fm::Database db;
    if (!db.open(databasePath)) return fail("cannot open the demonstration database");
    fm::ConversationStore store(db);
    for (const DemoChat& chat : kDemoChats) {
        QList<fm::NewMessage> messages;
        for (int i = 0; i < chat.turns.size(); ++i) {
            fm::NewMessage m;
            m.role = i % 2 == 0 ? fm::MessageRole::User : fm::MessageRole::Assistant;
            m.content = QString::fromUtf8(chat.turns[i]);
            messages << m;
        }
        if (!store.importConversation(QString::fromUtf8(chat.title), {}, messages))
            return fail("cannot store a demonstration chat");
    }
    return true;
}

bool shoot(testing::RunningApp& run, const QString& outDir, const QString& name) {
    QTest::qWait(300);  // let the view settle (and the theme's transitions end)
    const QString path = QDir(outDir).filePath(name);
    if (!run.window->grabWindow().save(path)) return fail("cannot save a picture");
    std::printf("%s\n", qPrintable(path));
    return true;
}

bool run(const QString& outDir, const QString& suffix) {
    QTemporaryDir dir;
    if (!dir.isValid()) return fail("no temporary folder");
    const AppEnvironment env = testing::environmentIn(dir);
    QDir().mkpath(env.dataDir);
    if (!seedDemoChats(env.databasePath())) return false;

    testing::RunningApp run(env);
    if (!run.window) return fail("the window did not load");
    run.window->resize(1280, 820);
    if (!QTest::qWaitForWindowExposed(run.window)) return fail("the window was not exposed");

    // One real (short) reply in a scratch chat, so the model and memory panel show live data.
    QSignalSpy ready(run.app->models(), &ModelController::modelReady);
    run.app->models()->setBackend(QStringLiteral("cpu"));
    if (!run.app->models()->load(testing::tinyChatDir()) || !testing::waitForSignal(ready, 30000))
        return fail("the test model did not load");
    run.app->chatSettings()->change({.temperature = 0, .maxNewTokens = 40});
    QSignalSpy saved(run.app->chat(), &ChatController::replySaved);
    run.app->conversations()->newConversation();
    run.app->chat()->send(QStringLiteral("Hello"));
    if (!testing::waitForSignal(saved, 30000)) return fail("no reply from the test model");
    run.app->conversations()->deleteConversation(run.app->conversations()->currentConversationId());
    run.app->conversations()->dismissUndo();

    auto* list = run.app->conversations()->list();
    auto open = [&](const char* title) {
        for (int row = 0; row < list->rowCount(); ++row) {
            const QModelIndex index = list->index(row, 0);
            if (list->data(index, fm::ConversationListModel::TitleRole).toString() == QString::fromUtf8(title))
                return run.app->conversations()->selectConversation(
                    list->data(index, fm::ConversationListModel::ConversationIdRole).toLongLong());
        }
        return false;
    };
    run.window->setProperty("page", QStringLiteral("chat"));
    if (!open("Read a large CSV file in Python")) return fail("the demonstration chat is missing");
    run.app->ui()->setTheme(QStringLiteral("light"));
    bool ok = shoot(run, outDir, QStringLiteral("main-light%1.png").arg(suffix));
    run.app->ui()->setTheme(QStringLiteral("dark"));
    ok = shoot(run, outDir, QStringLiteral("main-dark%1.png").arg(suffix)) && ok;
    run.app->ui()->setTheme(QStringLiteral("light"));
    if (!run.warnings.isEmpty()) std::fprintf(stderr, "%s\n", qPrintable(run.warnings.join(QLatin1Char('\n'))));
    return ok && run.warnings.isEmpty();
}

}  // namespace

int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM", qgetenv("QT_QPA_PLATFORM").isEmpty() ? "offscreen" : qgetenv("QT_QPA_PLATFORM"));
    QGuiApplication application(argc, argv);
    if (argc < 2) {
        std::fprintf(stderr, "usage: make_screenshots OUT_DIR [SUFFIX]\n");
        return 2;
    }
    QStandardPaths::setTestModeEnabled(true);
    importStaticQmlPlugins();
    const QString outDir = QDir(QString::fromLocal8Bit(argv[1])).absolutePath();
    QDir().mkpath(outDir);
    return run(outDir, argc > 2 ? QString::fromLocal8Bit(argv[2]) : QString()) ? 0 : 1;
}
