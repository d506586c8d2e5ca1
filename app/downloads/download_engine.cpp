#include "app/downloads/download_engine.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QStorageInfo>
#include <QTimer>
#include <algorithm>
#include <filesystem>
#include <system_error>

#ifndef FM_APP_VERSION
#define FM_APP_VERSION "0"
#endif

namespace fm::downloads {
namespace {

constexpr int kMaxRedirects = 10;
constexpr int kMaxVerificationFailures = 3;
constexpr qint64 kSpeedWindowMs = 5000;

bool isRedirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// Failures worth another try: the connection, not the request, went wrong.
bool isTransientNetworkError(QNetworkReply::NetworkError error) {
    switch (error) {
    case QNetworkReply::ConnectionRefusedError:
    case QNetworkReply::RemoteHostClosedError:
    case QNetworkReply::HostNotFoundError:
    case QNetworkReply::TimeoutError:
    case QNetworkReply::OperationCanceledError:  // what Qt reports for the transfer timeout
    case QNetworkReply::TemporaryNetworkFailureError:
    case QNetworkReply::NetworkSessionFailedError:
    case QNetworkReply::UnknownNetworkError:
    case QNetworkReply::ProxyConnectionClosedError:
    case QNetworkReply::ProxyTimeoutError:
    case QNetworkReply::InternalServerError:
    case QNetworkReply::ServiceUnavailableError:
    case QNetworkReply::UnknownServerError:
    case QNetworkReply::ProtocolFailure: return true;
    default: return false;
    }
}

bool isUnreachable(QNetworkReply::NetworkError error) {
    return error == QNetworkReply::ConnectionRefusedError || error == QNetworkReply::HostNotFoundError ||
           error == QNetworkReply::TemporaryNetworkFailureError || error == QNetworkReply::NetworkSessionFailedError;
}

QString describeNetworkError(QNetworkReply* reply) {
    const auto error = reply->error();
    if (error == QNetworkReply::OperationCanceledError || error == QNetworkReply::TimeoutError)
        return QStringLiteral("the server sent nothing for too long (timed out)");
    if (error == QNetworkReply::RemoteHostClosedError) return QStringLiteral("the connection was closed early");
    return reply->errorString();
}

QString normalizedHost(const QUrl& url) {
    return url.host().toLower() + u':' + QString::number(url.port(url.scheme() == QStringLiteral("https") ? 443 : 80));
}

// The request every Hub call makes: our name, no compression (ranges count raw bytes), the
// token only for the Hub itself, never for the storage a resolve URL redirects to.
QNetworkRequest hubRequest(const QUrl& url, const HubSettings& hub, int timeoutMs) {
    QNetworkRequest request(url);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    request.setTransferTimeout(timeoutMs);
    request.setRawHeader("User-Agent", "falcon-mamba-chat/" FM_APP_VERSION);
    request.setRawHeader("Accept-Encoding", "identity");
    if (!hub.token.isEmpty() && normalizedHost(url) == normalizedHost(QUrl(hub.endpoint)))
        request.setRawHeader("Authorization", "Bearer " + hub.token.toUtf8());
    return request;
}

QUrl redirectTarget(QNetworkReply* reply) {
    const QByteArray location = reply->rawHeader("Location");
    if (location.isEmpty()) return {};
    return reply->url().resolved(QUrl::fromEncoded(location));
}

int httpStatus(QNetworkReply* reply) {
    return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

// The nearest folder that exists: the cache may not have been created yet.
QString existingAncestor(QString path) {
    QFileInfo info(path);
    while (!info.exists() && !path.isEmpty()) {
        const QString parent = info.absolutePath();
        if (parent == path) break;
        path = parent;
        info = QFileInfo(path);
    }
    return path;
}

}  // namespace

qint64 FreeSpace::bytesAvailable(const QString& path) const {
    const QStorageInfo storage(existingAncestor(path));
    return storage.isValid() ? storage.bytesAvailable() : -1;
}

struct DownloadEngine::Transfer {
    explicit Transfer(const RepoFile& repoFile)
        : file(repoFile), hash(repoFile.isLfs() ? QCryptographicHash::Sha256 : QCryptographicHash::Sha1) {}
    int index = 0;
    RepoFile file;
    QUrl url;
    QFile out;
    QCryptographicHash hash;
    qint64 written = 0;  // bytes in the .incomplete file, all of them hashed
    int attempts = 0;
    int verificationFailures = 0;
    int redirects = 0;
    QNetworkReply* reply = nullptr;
    bool statusChecked = false;
    bool writing = false;
    qint64 receivedThisAttempt = 0;
    QString abortReason;  // why we aborted the reply ourselves, for the retry message

    void resetHash() {
        hash.reset();
        // Files outside LFS are checked against their git blob id: sha1 of "blob <size>\0" + bytes.
        if (!file.isLfs()) hash.addData(QByteArray("blob ") + QByteArray::number(file.size) + '\0');
    }
};

DownloadEngine::DownloadEngine(HubSettings hub, DownloadOptions options, std::shared_ptr<const FreeSpace> space,
                               QObject* parent)
    : QObject(parent),
      hub_(std::move(hub)),
      options_(options),
      space_(space ? std::move(space) : std::make_shared<FreeSpace>()),
      cache_(hub_.cacheDir),
      progressTimer_(new QTimer(this)) {
    qRegisterMetaType<DownloadPlan>();
    qRegisterMetaType<DownloadProgress>();
    qRegisterMetaType<DownloadError>();
    progressTimer_->setInterval(250);
    connect(progressTimer_, &QTimer::timeout, this, &DownloadEngine::emitProgress);
}

DownloadEngine::~DownloadEngine() {
    stopTransfers();
}

QNetworkAccessManager* DownloadEngine::network() {
    // Made on first use, on the thread the engine was moved to.
    if (network_ == nullptr) network_ = new QNetworkAccessManager(this);
    return network_;
}

void DownloadEngine::setState(State state) {
    if (state_ == state) return;
    state_ = state;
    if (state == State::Downloading) {
        progressTimer_->start();
    } else {
        progressTimer_->stop();
    }
    emit stateChanged(state);
}

void DownloadEngine::fail(DownloadError kind, const QString& message) {
    stopTransfers();
    setState(State::Failed);
    emit failed(message, kind);
}

void DownloadEngine::inspect(const QString& repoId, const QString& revision) {
    stopTransfers();
    hub_.loadPendingToken();
    plan_ = {};
    plan_.repoId = repoId.trimmed();
    plan_.revision = revision.trimmed().isEmpty() ? QStringLiteral("main") : revision.trimmed();
    if (!isValidRepoId(plan_.repoId)) {
        fail(DownloadError::InvalidRequest,
             QStringLiteral("\"%1\" is not a repository id: use the form organisation/name, as in "
                            "tiiuae/falcon-mamba-7b.")
                 .arg(plan_.repoId));
        return;
    }
    if (!isValidRevision(plan_.revision)) {
        fail(DownloadError::InvalidRequest,
             QStringLiteral("\"%1\" is not a branch, tag or commit.").arg(plan_.revision));
        return;
    }
    if (hub_.offline) {
        const QString commit = cache_.cachedCommit(plan_.repoId, plan_.revision);
        if (commit.isEmpty()) {
            fail(DownloadError::Offline,
                 QStringLiteral("Offline (HF_HUB_OFFLINE is set) and %1 at \"%2\" is not in the cache %3.")
                     .arg(plan_.repoId, plan_.revision, QDir::toNativeSeparators(hub_.cacheDir)));
            return;
        }
        plan_.commit = commit;
        plan_.snapshotDir = cache_.snapshotDir(plan_.repoId, commit);
        setState(State::Ready);
        emit planReady(plan_);
        if (downloadAfterPlan_) {
            setState(State::Finished);
            emit finished(plan_.snapshotDir);
        }
        return;
    }
    setState(State::Inspecting);
    infoUrl_ = modelInfoUrl(hub_, plan_.repoId, plan_.revision);
    infoAttempts_ = 0;
    infoRedirects_ = 0;
    requestInfo();
}

void DownloadEngine::download(const QString& repoId, const QString& revision) {
    downloadAfterPlan_ = true;
    inspect(repoId, revision);
}

void DownloadEngine::requestInfo() {
    QNetworkReply* reply = network()->get(hubRequest(infoUrl_, hub_, options_.transferTimeoutMs));
    infoReply_ = reply;
    connect(reply, &QNetworkReply::finished, this, [this, reply] { onInfoFinished(reply); });
}

void DownloadEngine::onInfoFinished(QNetworkReply* reply) {
    reply->deleteLater();
    if (reply != infoReply_) return;
    infoReply_ = nullptr;
    const int status = httpStatus(reply);
    if (isRedirect(status) && ++infoRedirects_ <= kMaxRedirects && redirectTarget(reply).isValid()) {
        infoUrl_ = redirectTarget(reply);
        requestInfo();
        return;
    }
    if (status >= 200 && status < 300) {
        QString error;
        const auto info = parseRepoInfo(reply->readAll(), plan_.repoId, &error);
        if (!info) {
            fail(DownloadError::Server, error);
            return;
        }
        makePlan(*info);
        return;
    }
    const bool transient = status >= 500 || status == 429 || (status == 0 && isTransientNetworkError(reply->error()));
    if (transient && ++infoAttempts_ <= options_.maxRetries) {
        emit notice(
            QStringLiteral("Asking the Hub about %1 failed (%2); retrying.")
                .arg(plan_.repoId, status ? QStringLiteral("HTTP %1").arg(status) : describeNetworkError(reply)));
        const quint64 generation = generation_;
        QTimer::singleShot(retryDelayMs(infoAttempts_), this, [this, generation] {
            if (generation == generation_ && state_ == State::Inspecting) requestInfo();
        });
        return;
    }
    if (status == 0) {
        const bool offline = isUnreachable(reply->error());
        fail(offline ? DownloadError::Offline : DownloadError::Network,
             QStringLiteral("Cannot reach %1: %2.%3")
                 .arg(hub_.endpoint, describeNetworkError(reply),
                      offline ? QStringLiteral(" Check the network connection; checkpoints already in the cache "
                                               "still load offline.")
                              : QString()));
        return;
    }
    const DownloadError kind = status == 401 || status == 403 ? DownloadError::Unauthorized
                               : status == 404                ? DownloadError::NotFound
                                                              : DownloadError::Server;
    fail(kind, describeHttpFailure(hub_, status, reply->rawHeader("X-Error-Code"), plan_.repoId, plan_.revision));
}

void DownloadEngine::makePlan(const RepoInfo& info) {
    plan_.commit = info.commit;
    plan_.snapshotDir = cache_.snapshotDir(plan_.repoId, info.commit);
    const QList<RepoFile> files = checkpointFiles(info);
    bool hasWeights = false;
    for (const RepoFile& file : files) {
        plan_.files.append({file, 0, false});
        hasWeights = hasWeights || file.path.endsWith(QStringLiteral(".safetensors"));
    }
    if (!hasWeights) {
        fail(DownloadError::NotFound,
             QStringLiteral("%1 has no safetensors weights at \"%2\": it is not a checkpoint this app can load.")
                 .arg(plan_.repoId, plan_.revision));
        return;
    }
    refreshPresentBytes();
    setState(State::Ready);
    emit planReady(plan_);
    if (downloadAfterPlan_) beginTransfers();
}

void DownloadEngine::refreshPresentBytes() {
    plan_.totalBytes = plan_.presentBytes = 0;
    for (PlannedFile& planned : plan_.files) {
        const RepoFile& file = planned.file;
        planned.complete = cache_.hasBlob(plan_.repoId, file.etag(), file.size);
        planned.presentBytes =
            planned.complete ? file.size : std::min(cache_.incompleteBytes(plan_.repoId, file.etag()), file.size);
        plan_.totalBytes += file.size;
        plan_.presentBytes += planned.presentBytes;
    }
    plan_.neededBytes = plan_.totalBytes - plan_.presentBytes;
    plan_.requiredBytes =
        plan_.neededBytes == 0 ? 0 : plan_.neededBytes + std::max(options_.minimumSpaceMargin, plan_.neededBytes / 50);
    plan_.availableBytes = space_->bytesAvailable(hub_.cacheDir);
}

void DownloadEngine::beginTransfers() {
    downloadAfterPlan_ = false;
    refreshPresentBytes();
    if (!plan_.enoughSpace()) {
        fail(DownloadError::NoSpace,
             QStringLiteral("Not enough disk space for %1: it needs %2 more (plus a margin, %3 in all) but only %4 "
                            "is free in %5. Free some space or set HF_HUB_CACHE to a larger disk.")
                 .arg(plan_.repoId, formatBytes(plan_.neededBytes), formatBytes(plan_.requiredBytes),
                      formatBytes(plan_.availableBytes), QDir::toNativeSeparators(hub_.cacheDir)));
        return;
    }
    if (!QDir().mkpath(cache_.repoDir(plan_.repoId) + QStringLiteral("/blobs"))) {
        fail(DownloadError::Disk,
             QStringLiteral("Cannot create the cache folder %1.").arg(cache_.repoDir(plan_.repoId)));
        return;
    }
    queue_.clear();
    QStringList queuedEtags;
    for (int i = 0; i < plan_.files.size(); ++i) {
        // Files with the same content share one blob: fetch it once (two transfers must never
        // write the same .incomplete file).
        const QString etag = plan_.files[i].file.etag();
        if (plan_.files[i].complete || queuedEtags.contains(etag)) continue;
        queuedEtags.append(etag);
        queue_.append(i);
    }
    receivedThisRun_ = 0;
    speedSamples_.clear();
    clock_.start();
    setState(State::Downloading);
    if (queue_.isEmpty()) {
        finishSnapshot();
        return;
    }
    pump();
}

void DownloadEngine::pump() {
    while (state_ == State::Downloading && static_cast<int>(active_.size()) < std::max(1, options_.parallelFiles) &&
           !queue_.isEmpty())
        startFile(queue_.takeFirst());
}

void DownloadEngine::startFile(int index) {
    auto owned = std::make_unique<Transfer>(plan_.files[index].file);
    Transfer* t = owned.get();
    t->index = index;
    t->url = resolveUrl(hub_, plan_.repoId, plan_.commit, t->file.path);
    t->resetHash();
    active_.emplace(index, std::move(owned));
    t->out.setFileName(cache_.incompletePath(plan_.repoId, t->file.etag()));
    // Unbuffered: a failed write (a full disk) shows at once, never later in a flush at close.
    if (!t->out.open(QIODevice::ReadWrite | QIODevice::Unbuffered)) {
        fail(DownloadError::Disk, QStringLiteral("Cannot open %1: %2").arg(t->out.fileName(), t->out.errorString()));
        return;
    }
    // Resume: the bytes already on disk are hashed again, so the check covers the whole file.
    if (t->out.size() > t->file.size) t->out.resize(0);
    while (!t->out.atEnd()) {
        const QByteArray chunk = t->out.read(qint64(4) << 20);
        if (chunk.isEmpty()) break;
        t->hash.addData(chunk);
        t->written += chunk.size();
    }
    if (t->written != t->out.size()) {
        fail(DownloadError::Disk, QStringLiteral("Cannot read %1: %2").arg(t->out.fileName(), t->out.errorString()));
        return;
    }
    if (t->written == t->file.size) {
        // Received whole before an interruption (between the check and the rename): nothing
        // to ask the server for when it verifies.
        if (QString::fromLatin1(t->hash.result().toHex()) == t->file.etag()) {
            completeFile(t);
            return;
        }
        restartFromZero(t);
    }
    sendFileRequest(t);
}

void DownloadEngine::sendFileRequest(Transfer* t) {
    QNetworkRequest request = hubRequest(t->url, hub_, options_.transferTimeoutMs);
    if (t->written > 0) request.setRawHeader("Range", "bytes=" + QByteArray::number(t->written) + '-');
    t->statusChecked = false;
    t->writing = false;
    t->receivedThisAttempt = 0;
    t->abortReason.clear();
    t->reply = network()->get(request);
    connect(t->reply, &QNetworkReply::readyRead, this, [this, t] { onFileData(t); });
    connect(t->reply, &QNetworkReply::finished, this, [this, t] { onFileFinished(t); });
}

void DownloadEngine::restartFromZero(Transfer* t) {
    t->out.resize(0);
    t->out.seek(0);
    t->written = 0;
    t->resetHash();
}

void DownloadEngine::onFileData(Transfer* t) {
    QNetworkReply* reply = t->reply;
    if (!reply->isOpen()) return;  // a timed-out reply is closed: nothing left to read
    if (!t->statusChecked) {
        t->statusChecked = true;
        const int status = httpStatus(reply);
        if (status == 200) {
            if (t->written > 0) restartFromZero(t);  // the server ignored the Range: start over
            t->writing = true;
        } else if (status == 206) {
            static const QRegularExpression range(QStringLiteral("^bytes (\\d+)-\\d+/(\\d+|\\*)$"));
            const auto match = range.match(QString::fromLatin1(reply->rawHeader("Content-Range")).trimmed());
            t->writing = match.hasMatch() && match.captured(1).toLongLong() == t->written;
            if (!t->writing) {
                // A range we did not ask for: drop it and fetch the whole file.
                restartFromZero(t);
                t->abortReason = QStringLiteral("the server sent another range than the one asked for");
                reply->abort();
                return;
            }
        }
    }
    if (!t->writing) {
        reply->readAll();  // the body of a redirect or an error page
        return;
    }
    const QByteArray data = reply->readAll();
    if (data.isEmpty()) return;
    if (t->written + data.size() > t->file.size) {
        // More than the Hub said the file holds: it cannot verify; start again.
        restartFromZero(t);
        t->writing = false;
        t->abortReason = QStringLiteral("the server sent more bytes than the file holds");
        reply->abort();
        return;
    }
    if (t->out.write(data) != data.size()) {
        fail(DownloadError::Disk,
             QStringLiteral("Cannot write %1: %2. Free some space, then resume: the bytes so far are kept.")
                 .arg(QDir::toNativeSeparators(t->out.fileName()), t->out.errorString()));
        return;
    }
    t->hash.addData(data);
    t->written += data.size();
    t->receivedThisAttempt += data.size();
    receivedThisRun_ += data.size();
}

void DownloadEngine::onFileFinished(Transfer* t) {
    QNetworkReply* reply = t->reply;
    if (reply == nullptr) return;
    const int index = t->index;
    if (t->writing || !t->statusChecked) onFileData(t);
    const auto it = active_.find(index);
    if (it == active_.end() || it->second.get() != t || t->reply != reply) return;  // failed while writing
    t->reply = nullptr;
    reply->deleteLater();
    const int status = httpStatus(reply);
    const QUrl target = redirectTarget(reply);
    if (isRedirect(status) && target.isValid()) {
        if (++t->redirects > kMaxRedirects) {
            fail(DownloadError::Server, QStringLiteral("%1: too many redirects.").arg(t->file.path));
            return;
        }
        t->url = target;
        sendFileRequest(t);
        return;
    }
    if (status == 401 || status == 403 || status == 404 ||
        (status >= 400 && status < 500 && status != 429 && status != 416)) {
        const DownloadError kind = status == 404  ? DownloadError::NotFound
                                   : status < 404 ? DownloadError::Unauthorized
                                                  : DownloadError::Server;
        fail(kind, QStringLiteral("%1: %2").arg(
                       t->file.path, describeHttpFailure(hub_, status, reply->rawHeader("X-Error-Code"), plan_.repoId,
                                                         plan_.revision)));
        return;
    }
    if (status == 416) {
        restartFromZero(t);
        retryFile(t, DownloadError::Server, QStringLiteral("the server refused the resume range"));
        return;
    }
    if (status >= 500 || status == 429) {
        retryFile(t, DownloadError::Server, QStringLiteral("HTTP %1").arg(status));
        return;
    }
    if (reply->error() != QNetworkReply::NoError || t->written < t->file.size) {
        const bool unreachable = isUnreachable(reply->error());
        const QString reason = !t->abortReason.isEmpty() ? t->abortReason
                               : reply->error() != QNetworkReply::NoError
                                   ? describeNetworkError(reply)
                                   : QStringLiteral("the connection ended early");
        retryFile(t, unreachable ? DownloadError::Offline : DownloadError::Network, reason);
        return;
    }
    const QString digest = QString::fromLatin1(t->hash.result().toHex());
    if (digest != t->file.etag()) {
        restartFromZero(t);
        if (++t->verificationFailures >= kMaxVerificationFailures) {
            fail(DownloadError::Verification,
                 QStringLiteral("%1 arrived damaged %2 times (its %3 does not match the Hub's); giving up.")
                     .arg(t->file.path)
                     .arg(t->verificationFailures)
                     .arg(t->file.isLfs() ? QStringLiteral("sha256") : QStringLiteral("git blob id")));
            return;
        }
        emit notice(QStringLiteral("%1 arrived damaged (checksum mismatch); fetching it again.").arg(t->file.path));
        t->url = resolveUrl(hub_, plan_.repoId, plan_.commit, t->file.path);
        t->redirects = 0;
        sendFileRequest(t);
        return;
    }
    completeFile(t);
}

void DownloadEngine::retryFile(Transfer* t, DownloadError kind, const QString& reason) {
    if (t->receivedThisAttempt > 0) t->attempts = 0;  // progress was made: only failures in a row count
    if (++t->attempts > options_.maxRetries) {
        fail(kind,
             QStringLiteral("%1: %2, %3 times in a row; giving up. Resume later: the %4 received so far are kept.")
                 .arg(t->file.path, reason)
                 .arg(t->attempts)
                 .arg(formatBytes(t->written)));
        return;
    }
    const int delay = retryDelayMs(t->attempts);
    emit notice(QStringLiteral("%1: %2; retrying in %3 s.").arg(t->file.path, reason).arg(delay / 1000.0, 0, 'f', 1));
    t->out.flush();
    t->url = resolveUrl(hub_, plan_.repoId, plan_.commit, t->file.path);  // signed redirect URLs expire
    t->redirects = 0;
    const quint64 generation = generation_;
    const int index = t->index;
    QTimer::singleShot(delay, this, [this, generation, index] {
        if (generation != generation_ || state_ != State::Downloading) return;
        const auto it = active_.find(index);
        if (it != active_.end() && it->second->reply == nullptr) sendFileRequest(it->second.get());
    });
}

int DownloadEngine::retryDelayMs(int attempt) const {
    const qint64 delay = qint64(options_.retryBaseDelayMs) << std::min(attempt - 1, 10);
    return static_cast<int>(std::min<qint64>(delay, 30000));
}

void DownloadEngine::completeFile(Transfer* t) {
    t->out.close();
    if (QFileInfo(t->out.fileName()).size() != t->file.size) {
        fail(DownloadError::Disk,
             QStringLiteral("%1 is not whole on disk after writing it; check the disk, then resume.")
                 .arg(QDir::toNativeSeparators(t->out.fileName())));
        return;
    }
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::rename(fs::path(t->out.fileName().toStdString()),
               fs::path(cache_.blobPath(plan_.repoId, t->file.etag()).toStdString()), ec);
    if (ec) {
        fail(DownloadError::Disk, QStringLiteral("Cannot move %1 into place: %2")
                                      .arg(t->out.fileName(), QString::fromStdString(ec.message())));
        return;
    }
    const QString etag = t->file.etag();
    for (PlannedFile& planned : plan_.files) {
        if (planned.file.etag() != etag) continue;
        planned.complete = true;
        planned.presentBytes = planned.file.size;
    }
    active_.erase(t->index);
    if (active_.empty() && queue_.isEmpty()) {
        finishSnapshot();
    } else {
        pump();
    }
}

void DownloadEngine::finishSnapshot() {
    // config.json last: the app's cache scan sees the snapshot only when everything is there.
    QList<PlannedFile> order = plan_.files;
    std::stable_partition(order.begin(), order.end(),
                          [](const PlannedFile& f) { return f.file.path != QStringLiteral("config.json"); });
    QString error;
    for (const PlannedFile& planned : order) {
        if (!cache_.linkIntoSnapshot(plan_.repoId, plan_.commit, planned.file.path, planned.file.etag(), &error)) {
            fail(DownloadError::Disk, error);
            return;
        }
    }
    if (!cache_.writeRef(plan_.repoId, plan_.revision, plan_.commit, &error)) {
        fail(DownloadError::Disk, error);
        return;
    }
    // A part left over from an older attempt whose blob is now whole is of no further use.
    for (const PlannedFile& planned : plan_.files)
        QFile::remove(cache_.incompletePath(plan_.repoId, planned.file.etag()));
    emitProgress();
    setState(State::Finished);
    emit finished(plan_.snapshotDir);
}

void DownloadEngine::stopTransfers() {
    ++generation_;
    if (infoReply_ != nullptr) {
        QNetworkReply* reply = std::exchange(infoReply_, nullptr);
        disconnect(reply, nullptr, this, nullptr);
        reply->abort();
        reply->deleteLater();
    }
    for (auto& [index, t] : active_) {
        if (t->reply != nullptr) {
            disconnect(t->reply, nullptr, this, nullptr);
            t->reply->abort();
            t->reply->deleteLater();
            t->reply = nullptr;
        }
        t->out.close();
    }
    active_.clear();
    queue_.clear();
}

void DownloadEngine::pause() {
    if (state_ != State::Downloading && state_ != State::Inspecting) return;
    const bool planned = !plan_.commit.isEmpty();
    stopTransfers();
    refreshPresentBytes();
    emitProgress();
    setState(planned ? State::Paused : State::Idle);
}

void DownloadEngine::resume() {
    if ((state_ != State::Paused && state_ != State::Failed && state_ != State::Ready) || plan_.commit.isEmpty())
        return;
    beginTransfers();
}

void DownloadEngine::cancel() {
    stopTransfers();
    downloadAfterPlan_ = false;
    plan_ = {};
    setState(State::Cancelled);
}

void DownloadEngine::setCacheDir(const QString& cacheDir) {
    if (state_ == State::Downloading || state_ == State::Inspecting || state_ == State::Paused) return;
    hub_.cacheDir = cacheDir;
    cache_ = HubCache(cacheDir);
}

void DownloadEngine::scanInterrupted() {
    emit interruptedFound(cache_.interruptedRepos());
}

void DownloadEngine::emitProgress() {
    DownloadProgress progress;
    progress.totalBytes = plan_.totalBytes;
    progress.filesTotal = static_cast<int>(plan_.files.size());
    for (int i = 0; i < plan_.files.size(); ++i) {
        const PlannedFile& planned = plan_.files[i];
        const auto it = active_.find(i);
        if (planned.complete) {
            progress.doneBytes += planned.file.size;
            ++progress.filesDone;
        } else if (it != active_.end()) {
            progress.doneBytes += it->second->written;
        } else {
            progress.doneBytes += planned.presentBytes;
        }
    }
    if (clock_.isValid()) {
        const qint64 now = clock_.elapsed();
        speedSamples_.emplace_back(now, receivedThisRun_);
        while (speedSamples_.size() > 2 && now - speedSamples_.front().first > kSpeedWindowMs)
            speedSamples_.pop_front();
        const auto& first = speedSamples_.front();
        if (now - first.first >= 200)
            progress.bytesPerSecond = double(receivedThisRun_ - first.second) * 1000.0 / double(now - first.first);
        if (progress.bytesPerSecond > 0)
            progress.secondsLeft = double(progress.totalBytes - progress.doneBytes) / progress.bytesPerSecond;
    }
    emit progressChanged(progress);
}

}  // namespace fm::downloads
