#pragma once
// The Hugging Face hub cache on disk, in the layout huggingface_hub writes and reads:
//   models--org--name/blobs/<etag>                 the file's bytes (a blob is always complete)
//   models--org--name/blobs/<etag>.incomplete      a download in progress, resumed from its size
//   models--org--name/snapshots/<commit>/<path>    relative symlink to ../../blobs/<etag>
//   models--org--name/refs/<revision>              the commit a branch or tag pointed at
// Every change that other programs may see is atomic (rename), so a reader never finds a
// half-written blob, link or ref.

#include <QString>
#include <QStringList>

namespace fm::downloads {

class HubCache {
public:
    explicit HubCache(QString root) : root_(std::move(root)) {}

    const QString& root() const { return root_; }
    static QString repoFolderName(const QString& repoId);  // "org/name" -> "models--org--name"
    QString repoDir(const QString& repoId) const;
    QString blobPath(const QString& repoId, const QString& etag) const;
    QString incompletePath(const QString& repoId, const QString& etag) const;
    QString snapshotDir(const QString& repoId, const QString& commit) const;
    QString refPath(const QString& repoId, const QString& revision) const;

    // The blob exists with exactly `size` bytes.
    bool hasBlob(const QString& repoId, const QString& etag, qint64 size) const;
    // Bytes already in the .incomplete file (0 when there is none).
    qint64 incompleteBytes(const QString& repoId, const QString& etag) const;

    // snapshots/<commit>/<filePath> -> ../../blobs/<etag> (deeper for files in folders).
    bool linkIntoSnapshot(const QString& repoId, const QString& commit, const QString& filePath, const QString& etag,
                          QString* error) const;
    // refs/<revision> = commit, unless the revision is the commit itself.
    bool writeRef(const QString& repoId, const QString& revision, const QString& commit, QString* error) const;
    // The commit that `revision` resolves to without the network: the revision itself when it
    // is a commit with a snapshot, else refs/<revision>. Empty when the cache does not know it.
    QString cachedCommit(const QString& repoId, const QString& revision) const;

    // Repositories ("org/name") with .incomplete blobs: downloads that were interrupted.
    QStringList interruptedRepos() const;

private:
    QString root_;
};

}  // namespace fm::downloads
