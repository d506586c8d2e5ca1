#include "app/downloads/hub_cache.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <filesystem>
#include <system_error>

#include "app/downloads/hub_protocol.h"

namespace fm::downloads {

QString HubCache::repoFolderName(const QString& repoId) {
    return QStringLiteral("models--") + QString(repoId).replace(u'/', QStringLiteral("--"));
}

QString HubCache::repoDir(const QString& repoId) const {
    return QDir(root_).filePath(repoFolderName(repoId));
}

QString HubCache::blobPath(const QString& repoId, const QString& etag) const {
    return repoDir(repoId) + QStringLiteral("/blobs/") + etag;
}

QString HubCache::incompletePath(const QString& repoId, const QString& etag) const {
    return blobPath(repoId, etag) + QStringLiteral(".incomplete");
}

QString HubCache::snapshotDir(const QString& repoId, const QString& commit) const {
    return repoDir(repoId) + QStringLiteral("/snapshots/") + commit;
}

QString HubCache::refPath(const QString& repoId, const QString& revision) const {
    return repoDir(repoId) + QStringLiteral("/refs/") + revision;
}

bool HubCache::hasBlob(const QString& repoId, const QString& etag, qint64 size) const {
    const QFileInfo info(blobPath(repoId, etag));
    return info.isFile() && info.size() == size;
}

qint64 HubCache::incompleteBytes(const QString& repoId, const QString& etag) const {
    const QFileInfo info(incompletePath(repoId, etag));
    return info.isFile() ? info.size() : 0;
}

bool HubCache::linkIntoSnapshot(const QString& repoId, const QString& commit, const QString& filePath,
                                const QString& etag, QString* error) const {
    namespace fs = std::filesystem;
    const QString linkPath = snapshotDir(repoId, commit) + u'/' + filePath;
    const QString parent = QFileInfo(linkPath).absolutePath();
    if (!QDir().mkpath(parent)) {
        *error = QStringLiteral("Cannot create the folder %1.").arg(parent);
        return false;
    }
    // Relative, as huggingface_hub makes them, so the cache can be moved as a whole.
    QString target = QStringLiteral("../../blobs/") + etag;
    for (qsizetype i = 0; i < filePath.count(u'/'); ++i) target.prepend(QStringLiteral("../"));
    const fs::path link = fs::path(linkPath.toStdString());
    const fs::path temporary = fs::path((linkPath + QStringLiteral(".linking")).toStdString());
    std::error_code ec;
    fs::remove(temporary, ec);
    fs::create_symlink(fs::path(target.toStdString()), temporary, ec);
    if (!ec) fs::rename(temporary, link, ec);
    if (ec) {
        fs::remove(temporary, ec);
        *error =
            QStringLiteral("Cannot link %1 into the snapshot: %2").arg(linkPath, QString::fromStdString(ec.message()));
        return false;
    }
    return true;
}

bool HubCache::writeRef(const QString& repoId, const QString& revision, const QString& commit, QString* error) const {
    if (revision == commit) return true;
    const QString path = refPath(repoId, revision);
    QDir().mkpath(QFileInfo(path).absolutePath());
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(commit.toLatin1()) != commit.size() || !file.commit()) {
        *error = QStringLiteral("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

QString HubCache::cachedCommit(const QString& repoId, const QString& revision) const {
    if (isCommitHash(revision)) return QFileInfo(snapshotDir(repoId, revision)).isDir() ? revision : QString();
    QFile ref(refPath(repoId, revision));
    if (ref.size() > 256 || !ref.open(QIODevice::ReadOnly)) return {};
    const QString commit = QString::fromLatin1(ref.readAll()).trimmed();
    return isCommitHash(commit) && QFileInfo(snapshotDir(repoId, commit)).isDir() ? commit : QString();
}

QStringList HubCache::interruptedRepos() const {
    QStringList repos;
    const QDir hub(root_);
    for (const QString& folder : hub.entryList({QStringLiteral("models--*")}, QDir::Dirs | QDir::NoDotAndDotDot)) {
        const QDir blobs(hub.filePath(folder + QStringLiteral("/blobs")));
        if (blobs.entryList({QStringLiteral("*.incomplete")}, QDir::Files).isEmpty()) continue;
        repos.append(folder.mid(8).replace(QStringLiteral("--"), QStringLiteral("/")));
    }
    return repos;
}

}  // namespace fm::downloads
