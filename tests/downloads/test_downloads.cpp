// Downloads from a mock Hugging Face Hub (tests/downloads/mock_hub.h) into a temporary hub cache: the
// layout huggingface_hub reads, byte-identical files that fm::Model::load accepts, resume with
// Range after a cut, sha256 re-fetch, HTTP errors with their messages, timeouts, a full disk
// (the FreeSpace seam), cancel, pause and resume, offline mode. The engine runs on the test's
// thread here; test_download_controller drives it on its own thread through the controller.

#include <sys/resource.h>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>
#include <filesystem>
#include <sstream>

#include "app/checkpoint_inspection.h"
#include "app/cli/cli.h"
#include "app/downloads/download_engine.h"
#include "inference/model/model.h"
#include "tests/downloads/mock_hub.h"

using namespace fm::downloads;
using fm::testing::MockHub;

namespace {

const QString kRepo = QStringLiteral("tiiuae/tiny-chat");
const QString kData = QStringLiteral(FM_TEST_DATA_DIR "/tiny-chat");

class FixedFreeSpace : public FreeSpace {
public:
    explicit FixedFreeSpace(qint64 bytes) : bytes_(bytes) {}
    qint64 bytesAvailable(const QString&) const override { return bytes_; }

private:
    qint64 bytes_;
};

QByteArray readFile(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// Every file under `dir`, relative, with symlinks reported as "path -> target".
QStringList listTree(const QString& dir) {
    QStringList entries;
    QDirIterator it(dir, QDir::Files | QDir::System | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        it.next();
        const QFileInfo info = it.fileInfo();
        QString entry = QDir(dir).relativeFilePath(info.filePath());
        if (info.isSymLink())
            entry += QStringLiteral(" -> ") +
                     QString::fromStdString(std::filesystem::read_symlink(info.filePath().toStdString()).string());
        entries.append(entry);
    }
    entries.sort();
    return entries;
}

struct Fixture {
    QTemporaryDir dir;
    MockHub hub;
    HubSettings settings;
    DownloadOptions options;

    Fixture() {
        hub.repos.insert(kRepo, fm::testing::tinyChatRepo(kData));
        settings.endpoint = hub.endpoint();
        settings.cacheDir = dir.filePath(QStringLiteral("hub"));
        settings.tokenFile = dir.filePath(QStringLiteral("token"));
        options.retryBaseDelayMs = 10;
        options.transferTimeoutMs = 10000;  // generous: a loaded CI machine must not time out
        options.maxRetries = 3;
    }
    std::unique_ptr<DownloadEngine> engine(qint64 freeBytes = qint64(1) << 40) {
        return std::make_unique<DownloadEngine>(settings, options, std::make_shared<FixedFreeSpace>(freeBytes));
    }
    fm::testing::MockFile file(const QString& name) const {
        for (const auto& f : hub.repos.value(kRepo).files)
            if (f.path == name) return f;
        qFatal("no fixture file");
    }
    // model.safetensors stops arriving after `fraction` of it, the connection left open;
    // returns how many of its bytes arrive.
    qint64 stallModelAt(double fraction) {
        hub.faults["model.safetensors"].cutAtFraction = fraction;
        hub.faults["model.safetensors"].stallAfterCut = true;
        return qint64(double(file("model.safetensors").content.size()) * fraction);
    }
    QString repoDir() const { return HubCache(settings.cacheDir).repoDir(kRepo); }
    QString snapshot() const { return HubCache(settings.cacheDir).snapshotDir(kRepo, hub.repos.value(kRepo).commit); }
};

// Runs the engine until it finishes or fails; returns the failure message (empty on success).
struct Outcome {
    bool finished = false;
    QString message;
    DownloadError kind = DownloadError::None;
    QString snapshot;
};
Outcome runDownload(DownloadEngine& engine, const QString& repo = kRepo, const QString& revision = "main",
                    int timeoutMs = 20000) {
    QSignalSpy finished(&engine, &DownloadEngine::finished);
    QSignalSpy failed(&engine, &DownloadEngine::failed);
    engine.download(repo, revision);
    QElapsedTimer timer;
    timer.start();
    while (finished.isEmpty() && failed.isEmpty() && timer.elapsed() < timeoutMs) QTest::qWait(5);
    Outcome outcome;
    outcome.finished = !finished.isEmpty();
    if (outcome.finished) outcome.snapshot = finished.first().at(0).toString();
    if (!failed.isEmpty()) {
        outcome.message = failed.first().at(0).toString();
        outcome.kind = failed.first().at(1).value<DownloadError>();
    }
    return outcome;
}

// What a download asks the hub for, and with which token ("" for none).
struct Request {
    QString repo, revision, token;
};

// A download of kRepo at main by a new engine of `f`, run to its end.
Outcome download(Fixture& f) {
    auto engine = f.engine();
    return runDownload(*engine);
}

}  // namespace

Q_DECLARE_METATYPE(Request)

class TestDownloads : public QObject {
    Q_OBJECT

private slots:
    void repoIdsAreValidated_data();
    void repoIdsAreValidated();
    void settingsFollowTheEnvironment();
    void repoInfoFromTheServerIsValidated_data();
    void repoInfoFromTheServerIsValidated();
    void fullDownloadMatchesTheFixtureAndLoads();
    void cutConnectionResumesWithRange();
    void serverIgnoringRangeRestartsTheFile();
    void corruptedByteIsRefetched();
    void persistentCorruptionFails();
    void httpFailuresGiveTheirMessage_data();
    void httpFailuresGiveTheirMessage();
    void tokenFileOpensAGatedRepo();
    void serverErrorThenSuccessRetries();
    void slowServerTimesOutAndLeavesNoBlob();
    void fullDiskIsRefusedBeforeStarting();
    void writeFailureMidTransferKeepsThePart();
    void cancelKeepsThePartAndTheNextDownloadResumes();
    void wholePartIsVerifiedWithoutARequest();
    void sameContentIsFetchedOnce();
    void pauseAndResume();
    void offlineUsesTheCacheOnly();
    void unreachableHubSaysOffline();
    void cliDownload_data();
    void cliDownload();
};

void TestDownloads::repoIdsAreValidated_data() {
    QTest::addColumn<QString>("repoId");
    QTest::addColumn<bool>("valid");
    QTest::newRow("org/name") << "tiiuae/falcon-mamba-7b" << true;
    QTest::newRow("name only") << "gpt2" << true;
    QTest::newRow("dots and underscores") << "a_b/c.d-e" << true;
    QTest::newRow("empty") << "" << false;
    QTest::newRow("two slashes") << "a/b/c" << false;
    QTest::newRow("double dash") << "a--b/c" << false;
    QTest::newRow("dot dot") << "a/..b" << false;
    QTest::newRow("parent") << "../x" << false;
    QTest::newRow("space") << "tiiuae/falcon mamba" << false;
    QTest::newRow("url") << "https://huggingface.co/tiiuae/x" << false;
}

void TestDownloads::repoIdsAreValidated() {
    QFETCH(QString, repoId);
    QFETCH(bool, valid);
    QCOMPARE(isValidRepoId(repoId), valid);
}

void TestDownloads::settingsFollowTheEnvironment() {
    QTemporaryDir dir;
    QFile token(dir.filePath(QStringLiteral("hf/token")));
    QDir().mkpath(dir.filePath(QStringLiteral("hf")));
    QVERIFY(token.open(QIODevice::WriteOnly));
    token.write("hf_fromfile\n");
    token.close();

    QProcessEnvironment env;
    env.insert(QStringLiteral("HOME"), dir.path());
    env.insert(QStringLiteral("HF_HOME"), dir.filePath(QStringLiteral("hf")));
    HubSettings s = HubSettings::fromEnvironment(env);
    QCOMPARE(s.endpoint, QStringLiteral("https://huggingface.co"));
    QCOMPARE(s.cacheDir, dir.filePath(QStringLiteral("hf/hub")));
    QCOMPARE(s.cacheDir, fm::app::huggingFaceHubCache(env));  // the app's scan looks where we write
    QCOMPARE(s.token, QStringLiteral("hf_fromfile"));
    QVERIFY(!s.offline);

    env.insert(QStringLiteral("HF_TOKEN"), QStringLiteral("hf_fromenv"));
    env.insert(QStringLiteral("HF_HUB_CACHE"), dir.filePath(QStringLiteral("elsewhere")));
    env.insert(QStringLiteral("HF_ENDPOINT"), QStringLiteral("http://127.0.0.1:9/"));
    env.insert(QStringLiteral("HF_HUB_OFFLINE"), QStringLiteral("1"));
    s = HubSettings::fromEnvironment(env);
    QCOMPARE(s.token, QStringLiteral("hf_fromenv"));
    QCOMPARE(s.cacheDir, dir.filePath(QStringLiteral("elsewhere")));
    QCOMPARE(s.cacheDir, fm::app::huggingFaceHubCache(env));
    QCOMPARE(s.endpoint, QStringLiteral("http://127.0.0.1:9"));
    QVERIFY(s.offline);

    // Deferred (the app's controller): read by the engine on first use, not before.
    env.remove(QStringLiteral("HF_TOKEN"));
    s = HubSettings::fromEnvironment(env, false);
    QVERIFY(s.token.isEmpty() && s.tokenFilePending);
    s.loadPendingToken();
    QCOMPARE(s.token, QStringLiteral("hf_fromfile"));

    QProcessEnvironment bare;
    bare.insert(QStringLiteral("HOME"), dir.path());
    s = HubSettings::fromEnvironment(bare);
    QCOMPARE(s.cacheDir, dir.filePath(QStringLiteral(".cache/huggingface/hub")));
    QCOMPARE(s.tokenFile, dir.filePath(QStringLiteral(".cache/huggingface/token")));
    QVERIFY(s.token.isEmpty());
}

void TestDownloads::repoInfoFromTheServerIsValidated_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("error");  // empty: accepted
    const QByteArray sha = "\"sha\":\"0123456789abcdef0123456789abcdef01234567\"";
    const QByteArray blob = "\"blobId\":\"89abcdef0123456789abcdef0123456789abcdef\"";
    QTest::newRow("good") << "{" + sha + ",\"siblings\":[{\"rfilename\":\"a/b.json\",\"size\":3," + blob + "}]}"
                          << QString();
    QTest::newRow("not json") << QByteArray("<html>") << "is not JSON";
    QTest::newRow("no sha") << QByteArray("{\"siblings\":[]}") << "no commit hash";
    QTest::newRow("no siblings") << "{" + sha + "}"
                                 << "no file list";
    QTest::newRow("parent path") << "{" + sha + ",\"siblings\":[{\"rfilename\":\"../x\",\"size\":3," + blob + "}]}"
                                 << "not a safe relative path";
    QTest::newRow("absolute path") << "{" + sha + ",\"siblings\":[{\"rfilename\":\"/etc/x\",\"size\":3," + blob + "}]}"
                                   << "not a safe relative path";
    QTest::newRow("no size") << "{" + sha + ",\"siblings\":[{\"rfilename\":\"x\"," + blob + "}]}"
                             << "no usable size";
    // Found by fuzz_hub_repo_info: a size beyond qint64 was cast from double (undefined).
    QTest::newRow("size beyond 64 bits") << "{" + sha + ",\"siblings\":[{\"rfilename\":\"x\",\"size\":6.6e54," + blob +
                                                "}]}"
                                         << "no usable size";
    QTest::newRow("fractional size") << "{" + sha + ",\"siblings\":[{\"rfilename\":\"x\",\"size\":2.5," + blob + "}]}"
                                     << "no usable size";
    QTest::newRow("bad sha256") << "{" + sha + ",\"siblings\":[{\"rfilename\":\"x\",\"size\":3," + blob +
                                       ",\"lfs\":{\"sha256\":\"../../x\",\"size\":3}}]}"
                                << "LFS sha256";
    QTest::newRow("bad blob id") << "{" + sha + ",\"siblings\":[{\"rfilename\":\"x\",\"size\":3,\"blobId\":\"zz\"}]}"
                                 << "blob id";
}

void TestDownloads::repoInfoFromTheServerIsValidated() {
    QFETCH(QByteArray, json);
    QFETCH(QString, error);
    QString message;
    const auto info = parseRepoInfo(json, kRepo, &message);
    QCOMPARE(info.has_value(), error.isEmpty());
    if (!error.isEmpty()) QVERIFY2(message.contains(error), qPrintable(message));
}

void TestDownloads::fullDownloadMatchesTheFixtureAndLoads() {
    Fixture f;
    f.settings.token = QStringLiteral("hf_secret");
    auto engine = f.engine();
    QSignalSpy plans(engine.get(), &DownloadEngine::planReady);
    QSignalSpy progress(engine.get(), &DownloadEngine::progressChanged);
    const Outcome outcome = runDownload(*engine);
    QVERIFY2(outcome.finished, qPrintable(outcome.message));
    QCOMPARE(outcome.snapshot, f.snapshot());

    // The plan: the five checkpoint files, not README.md or the pickle.
    QCOMPARE(plans.count(), 1);
    const auto plan = plans.first().at(0).value<DownloadPlan>();
    QStringList planned;
    for (const auto& p : plan.files) planned.append(p.file.path);
    planned.sort();
    QCOMPARE(planned, QStringList({"config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
                                   "tokenizer_config.json"}));
    QCOMPARE(plan.totalBytes,
             QFileInfo(kData + "/model.safetensors").size() + QFileInfo(kData + "/tokenizer.json").size() +
                 QFileInfo(kData + "/config.json").size() + QFileInfo(kData + "/generation_config.json").size() +
                 QFileInfo(kData + "/tokenizer_config.json").size());
    const auto last = progress.last().at(0).value<DownloadProgress>();
    QCOMPARE(last.doneBytes, plan.totalBytes);
    QCOMPARE(last.filesDone, 5);

    // Byte for byte, through the snapshot links.
    for (const QString& name : planned)
        QVERIFY2(readFile(f.snapshot() + u'/' + name) == readFile(kData + u'/' + name), qPrintable(name));

    // The layout huggingface_hub writes: blobs named by etag, relative links, refs/main.
    QStringList expected;
    for (const QString& name : planned) {
        const auto file = f.file(name);
        const QString etag = file.lfs ? file.sha256() : file.blobId();
        expected << "blobs/" + etag;
        expected << "snapshots/" + f.hub.repos[kRepo].commit + u'/' + name + " -> ../../blobs/" + etag;
    }
    expected << QStringLiteral("refs/main");
    expected.sort();
    QCOMPARE(listTree(f.repoDir()), expected);
    QCOMPARE(readFile(f.repoDir() + "/refs/main"), f.hub.repos[kRepo].commit.toLatin1());

    // The token goes to the Hub, never to the CDN it redirects to.
    for (const auto& request : f.hub.log) {
        QCOMPARE(request.authorization, request.cdn ? QByteArray() : QByteArray("Bearer hf_secret"));
        QVERIFY(!request.path.contains(QStringLiteral("README")) && !request.path.contains(QStringLiteral(".bin")));
    }

    // The app's cache scan finds it, and the engine's front door loads it.
    const auto found = fm::app::findHubCheckpoints(f.settings.cacheDir);
    QCOMPARE(found.size(), 1);
    QCOMPARE(found.first().displayName, kRepo);
    QCOMPARE(found.first().path, f.snapshot());
    auto model = fm::Model::load(f.snapshot().toStdString());
    QVERIFY2(model.ok(), model.error().c_str());
    QVERIFY((*model)->tokenizer() != nullptr);

    // A second download transfers nothing.
    const qsizetype requests = f.hub.log.size();
    auto again = f.engine();
    QVERIFY(runDownload(*again).finished);
    QCOMPARE(f.hub.log.size(), requests + 1);  // the model API only
}

void TestDownloads::cutConnectionResumesWithRange() {
    Fixture f;
    f.hub.faults["model.safetensors"].cutAtFraction = 0.4;
    const Outcome outcome = download(f);
    QVERIFY2(outcome.finished, qPrintable(outcome.message));
    const auto file = f.file("model.safetensors");
    const QList<fm::testing::MockRequest> cdn = f.hub.cdnRequestsFor("model.safetensors");
    QCOMPARE(cdn.size(), 2);
    const qint64 cut = qint64(double(file.content.size()) * 0.4);
    QCOMPARE(cdn[0].range, QByteArray());
    QCOMPARE(cdn[0].bodyBytes, cut);
    QCOMPARE(cdn[1].range, "bytes=" + QByteArray::number(cut) + "-");
    QCOMPARE(cdn[1].status, 206);
    QCOMPARE(cdn[0].bodyBytes + cdn[1].bodyBytes, qint64(file.content.size()));  // only the rest again
    QCOMPARE(readFile(f.snapshot() + "/model.safetensors"), file.content);
}

void TestDownloads::serverIgnoringRangeRestartsTheFile() {
    Fixture f;
    f.hub.faults["model.safetensors"].cutAtFraction = 0.4;
    f.hub.faults["model.safetensors"].ignoreRange = true;
    const Outcome outcome = download(f);
    QVERIFY2(outcome.finished, qPrintable(outcome.message));
    const auto file = f.file("model.safetensors");
    const QList<fm::testing::MockRequest> cdn = f.hub.cdnRequestsFor("model.safetensors");
    QCOMPARE(cdn.size(), 2);
    QCOMPARE(cdn[1].range, "bytes=" + QByteArray::number(cdn[0].bodyBytes) + "-");
    QCOMPARE(cdn[1].status, 200);
    QCOMPARE(cdn[1].bodyBytes, qint64(file.content.size()));
    QCOMPARE(readFile(f.snapshot() + "/model.safetensors"), file.content);
}

void TestDownloads::corruptedByteIsRefetched() {
    Fixture f;
    f.hub.faults["model.safetensors"].corruptTimes = 1;
    f.hub.faults["config.json"].corruptTimes = 1;  // outside LFS: caught by the git blob id
    auto engine = f.engine();
    QSignalSpy notices(engine.get(), &DownloadEngine::notice);
    const Outcome outcome = runDownload(*engine);
    QVERIFY2(outcome.finished, qPrintable(outcome.message));
    QCOMPARE(f.hub.cdnRequestsFor("model.safetensors").size(), 2);
    QCOMPARE(f.hub.requestsFor("config.json").size(), 2);
    QCOMPARE(notices.count(), 2);
    QVERIFY(notices.first().at(0).toString().contains(QStringLiteral("damaged")));
    QCOMPARE(readFile(f.snapshot() + "/model.safetensors"), f.file("model.safetensors").content);
    QCOMPARE(readFile(f.snapshot() + "/config.json"), f.file("config.json").content);
}

void TestDownloads::persistentCorruptionFails() {
    Fixture f;
    f.hub.faults["model.safetensors"].corruptTimes = 100;
    const Outcome outcome = download(f);
    QVERIFY(!outcome.finished);
    QCOMPARE(outcome.kind, DownloadError::Verification);
    QVERIFY2(outcome.message.contains(QStringLiteral("model.safetensors arrived damaged 3 times")),
             qPrintable(outcome.message));
    const auto file = f.file("model.safetensors");
    QVERIFY(!QFileInfo::exists(f.repoDir() + "/blobs/" + file.sha256()));
    QVERIFY(!QFileInfo::exists(f.snapshot()));
}

void TestDownloads::httpFailuresGiveTheirMessage_data() {
    QTest::addColumn<Request>("request");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("message");
    const int unauthorized = int(DownloadError::Unauthorized);
    const int notFound = int(DownloadError::NotFound);
    const int invalid = int(DownloadError::InvalidRequest);
    QTest::newRow("gated, no token") << Request{"tiiuae/gated", "main", ""} << unauthorized
                                     << "tiiuae/gated is gated: accept its conditions";
    QTest::newRow("gated, token says how")
        << Request{"tiiuae/gated", "main", ""} << unauthorized << "set HF_TOKEN, or save it in";
    QTest::newRow("gated, wrong token") << Request{"tiiuae/gated", "main", "bad"} << unauthorized
                                        << "The token was sent.";
    QTest::newRow("no such repo") << Request{"tiiuae/nothing", "main", ""} << notFound
                                  << "No repository tiiuae/nothing (revision \"main\")";
    QTest::newRow("no such revision") << Request{"tiiuae/tiny-chat", "v9", ""} << notFound
                                      << "tiiuae/tiny-chat has no revision \"v9\".";
    QTest::newRow("not a repo id") << Request{"not a repo", "main", ""} << invalid << "is not a repository id";
    QTest::newRow("bad revision") << Request{"tiiuae/tiny-chat", "../x", ""} << invalid
                                  << "is not a branch, tag or commit";
}

void TestDownloads::httpFailuresGiveTheirMessage() {
    QFETCH(Request, request);
    QFETCH(int, kind);
    QFETCH(QString, message);
    const auto& [repo, revision, token] = request;
    Fixture f;
    auto gated = fm::testing::tinyChatRepo(kData);
    gated.gated = true;
    f.hub.repos.insert(QStringLiteral("tiiuae/gated"), gated);
    f.settings.token = token;
    auto engine = f.engine();
    const Outcome outcome = runDownload(*engine, repo, revision);
    QVERIFY(!outcome.finished);
    QCOMPARE(int(outcome.kind), kind);
    QVERIFY2(outcome.message.contains(message), qPrintable(outcome.message));
    QCOMPARE(engine->state(), DownloadEngine::State::Failed);
    QVERIFY(!QFileInfo::exists(f.settings.cacheDir));  // nothing written
}

void TestDownloads::tokenFileOpensAGatedRepo() {
    Fixture f;
    f.hub.repos[kRepo].gated = true;
    QFile token(f.settings.tokenFile);
    QVERIFY(token.open(QIODevice::WriteOnly));
    token.write("good-token\n");
    token.close();
    f.settings.tokenFilePending = true;  // as the app's controller hands it over
    const Outcome outcome = download(f);
    QVERIFY2(outcome.finished, qPrintable(outcome.message));
    QCOMPARE(f.hub.log.first().authorization, QByteArray("Bearer good-token"));
}

void TestDownloads::serverErrorThenSuccessRetries() {
    Fixture f;
    f.hub.faults["model.safetensors"].statuses = {500, 503};
    f.hub.faults["api"].statuses = {502};
    auto engine = f.engine();
    QSignalSpy notices(engine.get(), &DownloadEngine::notice);
    const Outcome outcome = runDownload(*engine);
    QVERIFY2(outcome.finished, qPrintable(outcome.message));
    QList<int> statuses;
    for (const auto& r : f.hub.requestsFor("model.safetensors")) statuses.append(r.status);
    QCOMPARE(statuses, QList<int>({500, 503, 302, 200}));
    QCOMPARE(notices.count(), 3);
    QCOMPARE(readFile(f.snapshot() + "/model.safetensors"), f.file("model.safetensors").content);
}

void TestDownloads::slowServerTimesOutAndLeavesNoBlob() {
    Fixture f;
    f.options.transferTimeoutMs = 200;
    f.options.maxRetries = 2;
    f.hub.faults["model.safetensors"].stall = true;
    const Outcome outcome = download(f);
    QVERIFY(!outcome.finished);
    QCOMPARE(outcome.kind, DownloadError::Network);
    QVERIFY2(outcome.message.contains(QStringLiteral("model.safetensors: the server sent nothing for too long (timed "
                                                     "out), 3 times in a row")),
             qPrintable(outcome.message));
    QCOMPARE(f.hub.requestsFor("model.safetensors").size(), 3);
    // Consistent: complete blobs only, no snapshot until every file is there, no ref.
    QVERIFY(!QFileInfo::exists(f.repoDir() + "/blobs/" + f.file("model.safetensors").sha256()));
    QVERIFY(!QFileInfo::exists(f.snapshot()));
    QVERIFY(!QFileInfo::exists(f.repoDir() + "/refs/main"));
    QVERIFY(fm::app::findHubCheckpoints(f.settings.cacheDir).isEmpty());
}

void TestDownloads::fullDiskIsRefusedBeforeStarting() {
    Fixture f;
    auto engine = f.engine(100 * 1024);
    const Outcome outcome = runDownload(*engine);
    QVERIFY(!outcome.finished);
    QCOMPARE(outcome.kind, DownloadError::NoSpace);
    QVERIFY2(outcome.message.startsWith(QStringLiteral("Not enough disk space for tiiuae/tiny-chat: it needs ")),
             qPrintable(outcome.message));
    QVERIFY2(outcome.message.contains(QStringLiteral("only 100.0 KiB is free")), qPrintable(outcome.message));
    QCOMPARE(f.hub.log.size(), 1);  // the model API, then nothing
    QVERIFY(!QFileInfo::exists(f.repoDir()));
}

// The disk fills up during the transfer: played by a file-size limit (RLIMIT_FSIZE), so writes
// past 100 KiB fail with EFBIG as they would with ENOSPC.
void TestDownloads::writeFailureMidTransferKeepsThePart() {
    Fixture f;
    f.options.parallelFiles = 1;
    const auto file = f.file("model.safetensors");
    const QString incomplete = f.repoDir() + "/blobs/" + file.sha256() + ".incomplete";
    rlimit saved{};
    QCOMPARE(getrlimit(RLIMIT_FSIZE, &saved), 0);
    const auto previousHandler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limited = saved;
    limited.rlim_cur = 100 * 1024;
    QCOMPARE(setrlimit(RLIMIT_FSIZE, &limited), 0);
    auto engine = f.engine();
    const Outcome outcome = runDownload(*engine);
    setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, previousHandler);

    QVERIFY(!outcome.finished);
    QCOMPARE(outcome.kind, DownloadError::Disk);
    QVERIFY2(outcome.message.startsWith(QStringLiteral("Cannot write ") + incomplete), qPrintable(outcome.message));
    QVERIFY2(outcome.message.endsWith(QStringLiteral("Free some space, then resume: the bytes so far are kept.")),
             qPrintable(outcome.message));
    QVERIFY(!QFileInfo::exists(f.repoDir() + "/blobs/" + file.sha256()));
    QVERIFY(!QFileInfo::exists(f.snapshot()));
    const qint64 kept = QFileInfo(incomplete).size();
    QVERIFY(kept > 0 && kept <= 100 * 1024);

    // With space again, resume fetches the rest only.
    QSignalSpy finished(engine.get(), &DownloadEngine::finished);
    engine->resume();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
    QCOMPARE(f.hub.requestsFor("model.safetensors").last().range, "bytes=" + QByteArray::number(kept) + "-");
    QCOMPARE(readFile(f.snapshot() + "/model.safetensors"), file.content);
}

void TestDownloads::cancelKeepsThePartAndTheNextDownloadResumes() {
    Fixture f;
    const qint64 cut = f.stallModelAt(0.4);
    const auto file = f.file("model.safetensors");
    const QString incomplete = f.repoDir() + "/blobs/" + file.sha256() + ".incomplete";
    auto engine = f.engine();
    engine->download(kRepo, "main");
    QTRY_COMPARE_WITH_TIMEOUT(QFileInfo(incomplete).size(), cut, 10000);
    engine->cancel();
    QCOMPARE(engine->state(), DownloadEngine::State::Cancelled);
    QTest::qWait(50);
    QCOMPARE(QFileInfo(incomplete).size(), cut);
    QVERIFY(!QFileInfo::exists(f.snapshot()));
    QCOMPARE(HubCache(f.settings.cacheDir).interruptedRepos(), QStringList{kRepo});

    auto next = f.engine();
    QSignalSpy plans(next.get(), &DownloadEngine::planReady);
    const Outcome outcome = runDownload(*next);
    QVERIFY2(outcome.finished, qPrintable(outcome.message));
    QCOMPARE(plans.first().at(0).value<DownloadPlan>().presentBytes >= cut, true);
    const auto requests = f.hub.requestsFor("model.safetensors");
    QCOMPARE(requests.last().range, "bytes=" + QByteArray::number(cut) + "-");
    QCOMPARE(requests.last().bodyBytes, file.content.size() - cut);
    QCOMPARE(readFile(f.snapshot() + "/model.safetensors"), file.content);
    QVERIFY(HubCache(f.settings.cacheDir).interruptedRepos().isEmpty());
}

void TestDownloads::wholePartIsVerifiedWithoutARequest() {
    Fixture f;
    const auto file = f.file("model.safetensors");
    const QString blobs = f.repoDir() + "/blobs/";
    QVERIFY(QDir().mkpath(blobs));
    QFile part(blobs + file.sha256() + ".incomplete");
    QVERIFY(part.open(QIODevice::WriteOnly));
    part.write(file.content);
    part.close();
    // A whole but damaged part is fetched again from the start.
    const auto tokenizer = f.file("tokenizer.json");
    QFile damaged(blobs + tokenizer.sha256() + ".incomplete");
    QVERIFY(damaged.open(QIODevice::WriteOnly));
    damaged.write(QByteArray(tokenizer.content.size(), 'z'));
    damaged.close();
    auto engine = f.engine();
    QVERIFY(runDownload(*engine).finished);
    QVERIFY(f.hub.requestsFor("model.safetensors").isEmpty());
    QCOMPARE(f.hub.requestsFor("tokenizer.json").last().range, QByteArray());
    QCOMPARE(readFile(f.snapshot() + "/model.safetensors"), file.content);
    QCOMPARE(readFile(f.snapshot() + "/tokenizer.json"), tokenizer.content);
    QCOMPARE(QDir(blobs).entryList({"*.incomplete"}, QDir::Files), QStringList());
}

void TestDownloads::sameContentIsFetchedOnce() {
    Fixture f;
    auto& repo = f.hub.repos[kRepo];
    repo.files.append({QStringLiteral("special_tokens_map.json"), f.file("generation_config.json").content, false});
    repo.files.append({QStringLiteral("model-copy.safetensors"), f.file("model.safetensors").content, true});
    const Outcome outcome = download(f);
    QVERIFY2(outcome.finished, qPrintable(outcome.message));
    QCOMPARE(f.hub.requestsFor("special_tokens_map.json").size() + f.hub.requestsFor("generation_config.json").size(),
             1);
    int cdn = 0;
    for (const auto& r : f.hub.log) cdn += r.cdn && r.path.endsWith(f.file("model.safetensors").sha256()) ? 1 : 0;
    QCOMPARE(cdn, 1);
    QCOMPARE(readFile(f.snapshot() + "/special_tokens_map.json"), f.file("generation_config.json").content);
    QCOMPARE(readFile(f.snapshot() + "/model-copy.safetensors"), f.file("model.safetensors").content);
}

void TestDownloads::pauseAndResume() {
    Fixture f;
    const qint64 cut = f.stallModelAt(0.4);
    const auto file = f.file("model.safetensors");
    auto engine = f.engine();
    QSignalSpy finished(engine.get(), &DownloadEngine::finished);
    QSignalSpy progress(engine.get(), &DownloadEngine::progressChanged);
    engine->download(kRepo, "main");
    QTRY_COMPARE_WITH_TIMEOUT(QFileInfo(f.repoDir() + "/blobs/" + file.sha256() + ".incomplete").size(), cut, 10000);
    engine->pause();
    QCOMPARE(engine->state(), DownloadEngine::State::Paused);
    const auto paused = progress.last().at(0).value<DownloadProgress>();
    QVERIFY(paused.doneBytes >= cut && paused.doneBytes < paused.totalBytes);
    engine->resume();
    QCOMPARE(engine->state(), DownloadEngine::State::Downloading);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
    QCOMPARE(f.hub.requestsFor("model.safetensors").last().range, "bytes=" + QByteArray::number(cut) + "-");
    QCOMPARE(readFile(f.snapshot() + "/model.safetensors"), file.content);
}

void TestDownloads::offlineUsesTheCacheOnly() {
    Fixture f;
    f.settings.offline = true;
    auto before = f.engine();
    Outcome outcome = runDownload(*before);
    QCOMPARE(outcome.kind, DownloadError::Offline);
    QVERIFY2(outcome.message.contains(QStringLiteral("Offline (HF_HUB_OFFLINE is set) and tiiuae/tiny-chat at "
                                                     "\"main\" is not in the cache")),
             qPrintable(outcome.message));
    QVERIFY(f.hub.log.isEmpty());

    f.settings.offline = false;
    auto online = f.engine();
    QVERIFY(runDownload(*online).finished);
    const qsizetype requests = f.hub.log.size();
    f.settings.offline = true;
    auto after = f.engine();
    outcome = runDownload(*after);
    QVERIFY(outcome.finished);
    QCOMPARE(outcome.snapshot, f.snapshot());
    QCOMPARE(f.hub.log.size(), requests);  // no request at all
}

void TestDownloads::unreachableHubSaysOffline() {
    Fixture f;
    QTcpServer closed;
    closed.listen(QHostAddress::LocalHost, 0);
    f.settings.endpoint = QStringLiteral("http://127.0.0.1:%1").arg(closed.serverPort());
    closed.close();
    f.options.maxRetries = 1;
    const Outcome outcome = download(f);
    QCOMPARE(outcome.kind, DownloadError::Offline);
    QVERIFY2(outcome.message.startsWith(QStringLiteral("Cannot reach http://127.0.0.1:")), qPrintable(outcome.message));
    QVERIFY2(outcome.message.contains(QStringLiteral("Check the network connection")), qPrintable(outcome.message));
}

void TestDownloads::cliDownload_data() {
    QTest::addColumn<QStringList>("args");  // after "download"; {cache} is the cache folder
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("out");  // {snapshot} is the snapshot folder
    QTest::addColumn<QString>("err");  // a part of it
    QTest::newRow("downloads") << QStringList{kRepo, "--cache-dir", "{cache}"} << 0 << "{snapshot}\n"
                               << "tiiuae/tiny-chat at main (commit 0123456789abcdef0123456789abcdef01234567): 5 files";
    QTest::newRow("at a commit") << QStringList{kRepo, "--revision", "0123456789abcdef0123456789abcdef01234567",
                                                "--cache-dir", "{cache}"}
                                 << 0 << "{snapshot}\n"
                                 << "5 files";
    QTest::newRow("no repository") << QStringList{"tiiuae/none", "--cache-dir", "{cache}"} << 1 << ""
                                   << "falcon-mamba-cli download: No repository tiiuae/none (revision \"main\")";
    QTest::newRow("offline, not cached") << QStringList{"--offline", kRepo, "--cache-dir", "{cache}"} << 1 << ""
                                         << "Offline (HF_HUB_OFFLINE is set) and tiiuae/tiny-chat at \"main\" is "
                                            "not in the cache";
    QTest::newRow("no argument") << QStringList{} << 2 << ""
                                 << "give one repository id";
    QTest::newRow("unknown option") << QStringList{kRepo, "--revsion", "x"} << 2 << ""
                                    << "--revsion";
}

void TestDownloads::cliDownload() {
    QFETCH(QStringList, args);
    QFETCH(int, code);
    QFETCH(QString, out);
    QFETCH(QString, err);
    Fixture f;
    qputenv("HF_ENDPOINT", f.hub.endpoint().toUtf8());
    qputenv("HF_TOKEN", "");
    qunsetenv("HF_HUB_OFFLINE");
    // "--offline" (a test marker, not an option): run with HF_HUB_OFFLINE=1.
    if (args.removeAll(QStringLiteral("--offline")) > 0) qputenv("HF_HUB_OFFLINE", "1");
    std::vector<std::string> argv{"download"};
    for (const QString& a : args)
        argv.push_back(QString(a).replace(QStringLiteral("{cache}"), f.settings.cacheDir).toStdString());
    std::ostringstream outStream, errStream;
    std::istringstream in;
    const int rc = fm::cli::run_cli(argv, outStream, errStream, in);
    qunsetenv("HF_HUB_OFFLINE");
    QCOMPARE(rc, code);
    QCOMPARE(QString::fromStdString(outStream.str()), QString(out).replace(QStringLiteral("{snapshot}"), f.snapshot()));
    QVERIFY2(QString::fromStdString(errStream.str()).contains(err), errStream.str().c_str());
    if (code != 0) return;
    QCOMPARE(readFile(f.snapshot() + "/model.safetensors"), f.file("model.safetensors").content);

    // Again, offline: the snapshot from the cache, with no request.
    const qsizetype requests = f.hub.log.size();
    qputenv("HF_HUB_OFFLINE", "1");
    std::ostringstream offlineOut, offlineErr;
    const int offlineRc = fm::cli::run_cli(argv, offlineOut, offlineErr, in);
    qunsetenv("HF_HUB_OFFLINE");
    QCOMPARE(offlineRc, 0);
    QCOMPARE(QString::fromStdString(offlineOut.str()), f.snapshot() + "\n");
    QVERIFY2(QString::fromStdString(offlineErr.str()).contains(QStringLiteral("offline (HF_HUB_OFFLINE)")),
             offlineErr.str().c_str());
    QCOMPARE(f.hub.log.size(), requests);
}

QTEST_GUILESS_MAIN(TestDownloads)
#include "test_downloads.moc"
