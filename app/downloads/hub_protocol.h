#pragma once
// The Hugging Face Hub's side of a download: where the Hub and the cache are (from the same
// environment variables huggingface_hub reads), what a repository holds (the model API with
// blobs=true), which of its files a checkpoint needs, and what an HTTP failure means for the user.
// Everything that comes from the server is validated here before it names a file on disk.

#include <QByteArray>
#include <QList>
#include <QProcessEnvironment>
#include <QString>
#include <QUrl>
#include <optional>

namespace fm::downloads {

struct HubSettings {
    QString endpoint = QStringLiteral("https://huggingface.co");
    QString cacheDir;   // the hub cache: the folder that holds models--org--name
    QString token;      // empty: anonymous
    QString tokenFile;  // where a token is looked for, named in messages
    bool offline = false;
    // The token file is read on first use (by the engine, off the GUI thread) when HF_TOKEN is
    // not set.
    bool tokenFilePending = false;

    // HF_ENDPOINT, HF_HUB_CACHE / HF_HOME / XDG_CACHE_HOME, HF_TOKEN / HF_TOKEN_PATH / the token
    // file under HF_HOME, HF_HUB_OFFLINE: the order and defaults of huggingface_hub. With
    // `readTokenFile` false the file is left for loadPendingToken().
    static HubSettings fromEnvironment(const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment(),
                                       bool readTokenFile = true);
    void loadPendingToken();
};

struct RepoFile {
    QString path;  // relative, '/'-separated, validated (no "..", no absolute paths)
    qint64 size = 0;
    QString blobId;     // git blob sha1 (40 hex)
    QString lfsSha256;  // 64 hex for files stored in LFS, else empty

    bool isLfs() const { return !lfsSha256.isEmpty(); }
    // The blob's name in the cache: what the Hub sends as (X-Linked-)ETag.
    QString etag() const { return isLfs() ? lfsSha256 : blobId; }
};

struct RepoInfo {
    QString repoId;
    QString commit;  // 40 hex
    QList<RepoFile> files;
};

// "org/name" (or "name"): letters, digits, '-', '_', '.', no "--" or "..", at most 96 characters.
bool isValidRepoId(const QString& repoId);
// A branch, tag or commit: no "..", no leading or trailing '/', no empty path components.
bool isValidRevision(const QString& revision);
bool isCommitHash(const QString& text);

// The model API's answer for `repoId`. nullopt and `error` set when it is not usable.
std::optional<RepoInfo> parseRepoInfo(const QByteArray& json, const QString& repoId, QString* error);

// The files that loading a checkpoint needs: config, generation config, tokenizer files,
// safetensors weights and their index, at the top of the repository. Pickles, ONNX, README and
// the rest are left on the server.
QList<RepoFile> checkpointFiles(const RepoInfo& info);

QUrl modelInfoUrl(const HubSettings& hub, const QString& repoId, const QString& revision);
QUrl resolveUrl(const HubSettings& hub, const QString& repoId, const QString& revision, const QString& filePath);

// What an HTTP status (with the Hub's X-Error-Code header) means, for a person.
QString describeHttpFailure(const HubSettings& hub, int status, const QByteArray& hubErrorCode, const QString& repoId,
                            const QString& revision);

// "1.5 GiB", "340 KiB", "12 bytes".
QString formatBytes(qint64 bytes);

}  // namespace fm::downloads
