// The "Get models" view (ui/qml/GetModelsView.qml) offscreen, against the mock Hub: the catalog,
// checking a repository (its files, size and the space check), starting, progress, pause,
// resume, cancel, and the resume offer when the view starts again after an interrupted download.
// The DownloadController runs the engine on its own thread, as in the app.

#include <QFileInfo>
#include <QQmlComponent>
#include <QQmlEngine>
#include <QQuickItem>
#include <QQuickWindow>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "app/downloads/download_controller.h"
#include "app/qml_engine_setup.h"
#include "app/qml_plugins.h"
#include "tests/downloads/mock_hub.h"

using fm::testing::MockHub;

namespace {

const QString kRepo = QStringLiteral("tiiuae/tiny-chat");

// Emits a QML signal (a Button's clicked, a Banner's action) as a user's click would.
void click(QObject* root, const char* objectName, const char* signal = "clicked") {
    QObject* item = root->findChild<QObject*>(QString::fromLatin1(objectName));
    QVERIFY2(item != nullptr, objectName);
    QVERIFY2(item->property("visible").toBool(), objectName);
    QVERIFY2(item->property("enabled").toBool(), objectName);
    QVERIFY(QMetaObject::invokeMethod(item, signal));
}

QString textOf(QObject* root, const char* objectName) {
    QObject* item = root->findChild<QObject*>(QString::fromLatin1(objectName));
    return item ? item->property("text").toString() : QStringLiteral("<no %1>").arg(QString::fromLatin1(objectName));
}

}  // namespace

class TestDownloadUi : public QObject {
    Q_OBJECT

private:
    QTemporaryDir dir_;
    std::unique_ptr<MockHub> hub_;
    std::unique_ptr<QQmlEngine> engine_;

    // The view in a window, as the models page shows it.
    std::unique_ptr<QObject> createView() {
        QQmlComponent component(engine_.get());
        component.setData(R"(
            import QtQuick
            import QtQuick.Controls
            import FalconMamba.Ui
            ApplicationWindow {
                width: 800; height: 1400; visible: true
                property alias view: view
                GetModelsView { id: view; width: parent.width }
            })",
                          QUrl(QStringLiteral("qrc:/test_download_ui.qml")));
        std::unique_ptr<QObject> window(component.create());
        if (!window) qWarning("%s", qPrintable(component.errorString()));
        return window;
    }
    static fm::app::DownloadController* controllerOf(QObject* window) {
        return window->property("view").value<QObject*>()->property("controller").value<fm::app::DownloadController*>();
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        hub_ = std::make_unique<MockHub>();
        hub_->repos.insert(kRepo, fm::testing::tinyChatRepo(QStringLiteral(FM_TEST_DATA_DIR "/tiny-chat")));
        // The controller reads the same environment as the app.
        qputenv("HF_ENDPOINT", hub_->endpoint().toUtf8());
        qputenv("HF_HUB_CACHE", dir_.filePath(QStringLiteral("hub")).toUtf8());
        qputenv("HF_TOKEN", "");
        qunsetenv("HF_HUB_OFFLINE");
        fm::app::importStaticQmlPlugins();
        fm::app::setUpQuickControlsStyle();
        engine_ = std::make_unique<QQmlEngine>();
        fm::app::setUpQmlEngine(*engine_);
    }

    void pickCheckStartPauseResumeCancelAndResumeOnNextStart() {
        auto window = createView();
        QVERIFY(window);
        fm::app::DownloadController* downloads = controllerOf(window.get());
        QVERIFY(downloads);
        QCOMPARE(downloads->cachePath(), dir_.filePath(QStringLiteral("hub")));

        // The catalog: the four Falcon Mamba checkpoints with size, format and purpose.
        QStringList repos;
        for (const QVariant& entry : downloads->catalog()) {
            const QVariantMap map = entry.toMap();
            QVERIFY(!map.value("size").toString().isEmpty() && !map.value("format").toString().isEmpty() &&
                    !map.value("purpose").toString().isEmpty());
            repos << map.value("repoId").toString();
        }
        QCOMPARE(repos, QStringList({"tiiuae/falcon-mamba-7b-instruct", "tiiuae/falcon-mamba-7b-instruct-4bit",
                                     "tiiuae/falcon-mamba-7b", "tiiuae/falcon-mamba-7b-4bit"}));

        // Pick a repository: its files, size and the space check.
        window->findChild<QObject*>("getModelsRepoField")->setProperty("text", kRepo);
        click(window.get(), "getModelsCheck");
        QTRY_COMPARE_WITH_TIMEOUT(downloads->state(), QStringLiteral("ready"), 10000);
        QCOMPARE(downloads->files().size(), 5);
        const auto& content = hub_->repos[kRepo].files;
        qint64 total = 0;
        for (const auto& f : content)
            if (f.path != "README.md" && f.path != "pytorch_model.bin") total += f.content.size();
        QCOMPARE(downloads->totalBytes(), total);
        QVERIFY2(textOf(window.get(), "getModelsSpace").contains(downloads->formatBytes(total) + ")"),
                 qPrintable(textOf(window.get(), "getModelsSpace")));
        QVERIFY(downloads->enoughSpace());
        // For a person to look at: the view with a checked repository (build folder).
        qobject_cast<QQuickWindow*>(window.get())
            ->grabWindow()
            .save(QStringLiteral(FM_BINARY_DIR "/screenshot-get-models.png"));

        // Start; the weights stop at 40% and stall, so the view sits mid-download.
        qint64 modelSize = 0;
        for (const auto& f : content)
            if (f.path == "model.safetensors") modelSize = f.content.size();
        hub_->faults["model.safetensors"] = {};
        hub_->faults["model.safetensors"].cutAtFraction = 0.4;
        hub_->faults["model.safetensors"].stallAfterCut = true;
        QSignalSpy progress(downloads, &fm::app::DownloadController::progressChanged);
        click(window.get(), "getModelsDownload");
        QTRY_COMPARE_WITH_TIMEOUT(downloads->state(), QStringLiteral("downloading"), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(downloads->doneBytes() >= total - modelSize * 6 / 10 - 1, 10000);
        QVERIFY(progress.count() >= 1);
        QVERIFY(downloads->fraction() > 0.3 && downloads->fraction() < 1.0);
        QVERIFY2(textOf(window.get(), "getModelsProgressText").contains(" of " + downloads->formatBytes(total)),
                 qPrintable(textOf(window.get(), "getModelsProgressText")));
        QVERIFY(window->findChild<QObject*>("getModelsProgress")->property("value").toDouble() > 0.3);

        // Pause, then resume: the weights continue from 40% and stall again at 70%.
        click(window.get(), "getModelsPause");
        QTRY_COMPARE_WITH_TIMEOUT(downloads->state(), QStringLiteral("paused"), 10000);
        hub_->faults["model.safetensors"].cutAtFraction = 0.7;
        click(window.get(), "getModelsResume");
        QTRY_COMPARE_WITH_TIMEOUT(downloads->state(), QStringLiteral("downloading"), 10000);
        const qint64 cut40 = qint64(double(modelSize) * 0.4);
        QTRY_COMPARE_WITH_TIMEOUT(hub_->requestsFor("model.safetensors").last().range,
                                  "bytes=" + QByteArray::number(cut40) + "-", 10000);
        QTRY_VERIFY_WITH_TIMEOUT(downloads->doneBytes() >= total - modelSize * 3 / 10 - 1, 10000);

        // Closing the window asks first: "keep downloading" keeps it open and running, "stop and
        // quit" pauses and closes.
        auto* quickWindow = qobject_cast<QQuickWindow*>(window.get());
        QObject* dialog = window->findChild<QObject*>("getModelsStopDialog");
        QVERIFY(quickWindow && dialog);
        QVERIFY(!quickWindow->close());
        QTRY_VERIFY(dialog->property("opened").toBool());
        QVERIFY(quickWindow->isVisible());
        QVERIFY(QMetaObject::invokeMethod(dialog, "reject"));
        QTRY_VERIFY(!dialog->property("visible").toBool());
        QCOMPARE(downloads->state(), QStringLiteral("downloading"));
        QVERIFY(!quickWindow->close());
        QTRY_VERIFY(dialog->property("opened").toBool());
        QVERIFY(QMetaObject::invokeMethod(dialog, "accept"));
        QTRY_VERIFY(!quickWindow->isVisible());
        QTRY_COMPARE_WITH_TIMEOUT(downloads->state(), QStringLiteral("paused"), 10000);
        QTRY_COMPARE(downloads->interrupted(), QStringList{kRepo});
        window.reset();

        // The next start offers to resume, and resuming fetches only the rest.
        hub_->faults["model.safetensors"] = {};
        window = createView();
        QVERIFY(window);
        downloads = controllerOf(window.get());
        QTRY_COMPARE(downloads->interrupted(), QStringList{kRepo});
        QTRY_VERIFY(textOf(window.get(), "getModelsResumeBanner").contains(kRepo));
        QSignalSpy downloaded(window->property("view").value<QObject*>(), SIGNAL(downloaded(QString)));
        click(window.get(), "getModelsResumeBanner", "action");
        QTRY_COMPARE_WITH_TIMEOUT(downloads->state(), QStringLiteral("finished"), 10000);
        const qint64 cut70 = qint64(double(modelSize) * 0.7);
        QCOMPARE(hub_->requestsFor("model.safetensors").last().range, "bytes=" + QByteArray::number(cut70) + "-");
        QCOMPARE(hub_->requestsFor("model.safetensors").last().bodyBytes, modelSize - cut70);
        QTRY_COMPARE(downloaded.count(), 1);
        QCOMPARE(downloaded.first().at(0).toString(), downloads->snapshotPath());
        QVERIFY(downloads->snapshotPath().endsWith("/snapshots/" + hub_->repos[kRepo].commit));
        QTRY_COMPARE(downloads->interrupted(), QStringList());
        QCOMPARE(downloads->fraction(), 1.0);
    }

    void cancelKeepsThePartAndOffersToResume() {
        const QString other = QStringLiteral("tiiuae/tiny-chat-copy");
        hub_->repos.insert(other, hub_->repos[kRepo]);
        hub_->repos[other].commit = QStringLiteral("fedcba9876543210fedcba9876543210fedcba98");
        hub_->faults["model.safetensors"] = {};
        hub_->faults["model.safetensors"].cutAtFraction = 0.4;
        hub_->faults["model.safetensors"].stallAfterCut = true;
        auto window = createView();
        QVERIFY(window);
        fm::app::DownloadController* downloads = controllerOf(window.get());
        // The models page hands the view the cache it scans; downloads go there.
        const QString otherCache = dir_.filePath(QStringLiteral("other-hub"));
        window->property("view").value<QObject*>()->setProperty("cachePath", otherCache);
        QCOMPARE(downloads->cachePath(), otherCache);
        // Blobs are per repository, so nothing of the first test's download is reused.
        window->findChild<QObject*>("getModelsRepoField")->setProperty("text", other);
        click(window.get(), "getModelsCheck");
        QTRY_COMPARE_WITH_TIMEOUT(downloads->state(), QStringLiteral("ready"), 10000);
        QCOMPARE(downloads->neededBytes(), downloads->totalBytes());
        click(window.get(), "getModelsDownload");
        QTRY_VERIFY_WITH_TIMEOUT(downloads->fraction() > 0.3, 10000);
        click(window.get(), "getModelsCancel");
        QTRY_COMPARE_WITH_TIMEOUT(downloads->state(), QStringLiteral("cancelled"), 10000);
        QTRY_VERIFY(downloads->interrupted().contains(other));
        QCOMPARE(downloads->files().size(), 0);  // the plan is gone
        QVERIFY(textOf(window.get(), "getModelsMessage").contains(QStringLiteral("resumes next time")));
        QVERIFY(textOf(window.get(), "getModelsResumeBanner").contains(other));
        click(window.get(), "getModelsResumeBanner", "action");
        QTRY_COMPARE_WITH_TIMEOUT(downloads->state(), QStringLiteral("finished"), 10000);
        QVERIFY(hub_->requestsFor("model.safetensors").last().range.startsWith("bytes="));
        QTRY_VERIFY(downloads->interrupted().isEmpty());
        QCOMPARE(downloads->snapshotPath(),
                 otherCache + "/models--tiiuae--tiny-chat-copy/snapshots/fedcba9876543210fedcba9876543210fedcba98");
        QVERIFY(QFileInfo(downloads->snapshotPath() + "/model.safetensors").isFile());
    }
};

QTEST_MAIN(TestDownloadUi)
#include "test_download_ui.moc"
