#include "app/downloads/hub_protocol.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QRegularExpression>

#include <cmath>

namespace fm::downloads {
namespace {

bool isHex(const QString& text, int length) {
    if (text.size() != length) return false;
    for (const QChar c : text)
        if (!((c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f'))) return false;
    return true;
}

// A path from the server becomes a path under snapshots/<commit>/: it must stay there.
bool isSafeRelativePath(const QString& path) {
    if (path.isEmpty() || path.size() > 1024 || path.startsWith(u'/') || path.contains(u'\\')) return false;
    if (path.contains(QChar(0))) return false;
    for (const QString& part : path.split(u'/')) {
        if (part.isEmpty() || part == QStringLiteral(".") || part == QStringLiteral("..")) return false;
    }
    return true;
}

// A size from the server, or -1 when it is not a whole number of bytes in [0, 2^50]: JSON
// numbers are doubles, and casting 1e300 to an integer is undefined behaviour (found by
// fuzz_hub_repo_info).
qint64 fileSize(const QJsonValue& value) {
    if (!value.isDouble()) return -1;
    const double v = value.toDouble();
    if (!(v >= 0 && v <= static_cast<double>(qint64(1) << 50)) || v != std::floor(v)) return -1;
    return static_cast<qint64>(v);
}

bool truthy(const QString& value) {
    const QString v = value.trimmed().toLower();
    return v == QStringLiteral("1") || v == QStringLiteral("on") || v == QStringLiteral("yes") ||
           v == QStringLiteral("true");
}

QString encodeSegment(const QString& text) {
    return QString::fromLatin1(QUrl::toPercentEncoding(text));
}

}  // namespace

HubSettings HubSettings::fromEnvironment(const QProcessEnvironment& env, bool readTokenFile) {
    HubSettings hub;
    if (const QString endpoint = env.value(QStringLiteral("HF_ENDPOINT")).trimmed(); !endpoint.isEmpty()) {
        hub.endpoint = endpoint;
        while (hub.endpoint.endsWith(u'/')) hub.endpoint.chop(1);
    }
    QString cacheHome = env.value(QStringLiteral("XDG_CACHE_HOME"));
    if (cacheHome.isEmpty())
        cacheHome = QDir(env.value(QStringLiteral("HOME"), QDir::homePath())).filePath(QStringLiteral(".cache"));
    QString hfHome = env.value(QStringLiteral("HF_HOME"));
    if (hfHome.isEmpty()) hfHome = QDir(cacheHome).filePath(QStringLiteral("huggingface"));
    hub.cacheDir = env.value(QStringLiteral("HF_HUB_CACHE"));
    if (hub.cacheDir.isEmpty()) hub.cacheDir = QDir(hfHome).filePath(QStringLiteral("hub"));

    hub.tokenFile = env.value(QStringLiteral("HF_TOKEN_PATH"));
    if (hub.tokenFile.isEmpty()) hub.tokenFile = QDir(hfHome).filePath(QStringLiteral("token"));
    hub.token = env.value(QStringLiteral("HF_TOKEN")).trimmed();
    hub.tokenFilePending = hub.token.isEmpty();
    if (readTokenFile) hub.loadPendingToken();
    hub.offline = truthy(env.value(QStringLiteral("HF_HUB_OFFLINE")));
    return hub;
}

void HubSettings::loadPendingToken() {
    if (!tokenFilePending) return;
    tokenFilePending = false;
    QFile file(tokenFile);
    if (file.size() < 4096 && file.open(QIODevice::ReadOnly)) token = QString::fromUtf8(file.readAll()).trimmed();
}

bool isValidRepoId(const QString& repoId) {
    static const QRegularExpression pattern(
        QStringLiteral("^([A-Za-z0-9][A-Za-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]*$"));
    if (repoId.size() > 96 || repoId.contains(QStringLiteral("--")) || repoId.contains(QStringLiteral("..")))
        return false;
    return pattern.match(repoId).hasMatch() && !repoId.endsWith(u'.') && !repoId.endsWith(u'-');
}

bool isValidRevision(const QString& revision) {
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9._/-]+$"));
    return revision.size() <= 200 && pattern.match(revision).hasMatch() && isSafeRelativePath(revision);
}

bool isCommitHash(const QString& text) {
    return isHex(text, 40);
}

std::optional<RepoInfo> parseRepoInfo(const QByteArray& json, const QString& repoId, QString* error) {
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
        *error = QStringLiteral("The Hub's answer for %1 is not JSON (%2 at byte %3).")
                     .arg(repoId, parseError.errorString())
                     .arg(parseError.offset);
        return std::nullopt;
    }
    const QJsonObject root = doc.object();
    RepoInfo info;
    info.repoId = repoId;
    info.commit = root.value(QStringLiteral("sha")).toString();
    if (!isCommitHash(info.commit)) {
        *error = QStringLiteral("The Hub's answer for %1 has no commit hash (\"sha\").").arg(repoId);
        return std::nullopt;
    }
    const QJsonValue siblings = root.value(QStringLiteral("siblings"));
    if (!siblings.isArray()) {
        *error = QStringLiteral("The Hub's answer for %1 has no file list (\"siblings\").").arg(repoId);
        return std::nullopt;
    }
    const QJsonArray list = siblings.toArray();
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QJsonObject entry = list.at(i).toObject();
        RepoFile file;
        file.path = entry.value(QStringLiteral("rfilename")).toString();
        const QString where = QStringLiteral("The Hub's file list for %1, entry %2").arg(repoId).arg(i);
        if (!isSafeRelativePath(file.path)) {
            *error = QStringLiteral("%1: the file name \"%2\" is not a safe relative path.").arg(where, file.path);
            return std::nullopt;
        }
        const QJsonValue size = entry.value(QStringLiteral("size"));
        file.size = fileSize(size);
        file.blobId = entry.value(QStringLiteral("blobId")).toString();
        const QJsonObject lfs = entry.value(QStringLiteral("lfs")).toObject();
        if (!lfs.isEmpty()) {
            file.lfsSha256 = lfs.value(QStringLiteral("sha256")).toString();
            if (!isHex(file.lfsSha256, 64)) {
                *error = QStringLiteral("%1 (%2): the LFS sha256 is not 64 hex digits.").arg(where, file.path);
                return std::nullopt;
            }
            if (lfs.contains(QStringLiteral("size"))) file.size = fileSize(lfs.value(QStringLiteral("size")));
        }
        if (!size.isDouble() || file.size < 0 || file.size > (qint64(1) << 50)) {
            *error =
                QStringLiteral("%1 (%2): no usable size; the Hub must be asked with blobs=true.").arg(where, file.path);
            return std::nullopt;
        }
        if (!isHex(file.blobId, 40)) {
            *error = QStringLiteral("%1 (%2): the blob id is not 40 hex digits.").arg(where, file.path);
            return std::nullopt;
        }
        info.files.append(file);
    }
    return info;
}

QList<RepoFile> checkpointFiles(const RepoInfo& info) {
    static const QStringList named = {
        QStringLiteral("config.json"),           QStringLiteral("generation_config.json"),
        QStringLiteral("tokenizer.json"),        QStringLiteral("tokenizer.model"),
        QStringLiteral("tokenizer_config.json"), QStringLiteral("special_tokens_map.json"),
        QStringLiteral("added_tokens.json"),     QStringLiteral("model.safetensors.index.json"),
    };
    QList<RepoFile> files;
    for (const RepoFile& file : info.files) {
        if (file.path.contains(u'/')) continue;
        if (named.contains(file.path) || file.path.endsWith(QStringLiteral(".safetensors"))) files.append(file);
    }
    return files;
}

QUrl modelInfoUrl(const HubSettings& hub, const QString& repoId, const QString& revision) {
    return QUrl(hub.endpoint + QStringLiteral("/api/models/") + repoId + QStringLiteral("/revision/") +
                encodeSegment(revision) + QStringLiteral("?blobs=true"));
}

QUrl resolveUrl(const HubSettings& hub, const QString& repoId, const QString& revision, const QString& filePath) {
    QStringList parts;
    for (const QString& part : filePath.split(u'/')) parts.append(encodeSegment(part));
    return QUrl(hub.endpoint + u'/' + repoId + QStringLiteral("/resolve/") + encodeSegment(revision) + u'/' +
                parts.join(u'/'));
}

QString describeHttpFailure(const HubSettings& hub, int status, const QByteArray& hubErrorCode, const QString& repoId,
                            const QString& revision) {
    const QString tokenHelp =
        QStringLiteral(
            "Give a Hugging Face access token: set HF_TOKEN, or save it in %1 (`huggingface-cli login` "
            "does that).")
            .arg(QDir::toNativeSeparators(hub.tokenFile));
    if (hubErrorCode == "GatedRepo")
        return QStringLiteral("%1 is gated: accept its conditions at %2/%1 while signed in, then retry. %3")
            .arg(repoId, hub.endpoint, hub.token.isEmpty() ? tokenHelp : QStringLiteral("The token was sent."));
    if (status == 401 || status == 403) {
        if (!hub.token.isEmpty())
            return QStringLiteral(
                       "The Hub refused access to %1 (HTTP %2) with the token given: it may lack access "
                       "to this private or gated repository, or have expired.")
                .arg(repoId)
                .arg(status);
        return QStringLiteral("%1 is private, gated or does not exist (HTTP %2). If you have access: %3")
            .arg(repoId)
            .arg(status)
            .arg(tokenHelp);
    }
    if (status == 404) {
        if (hubErrorCode == "RevisionNotFound")
            return QStringLiteral("%1 has no revision \"%2\".").arg(repoId, revision);
        if (hubErrorCode == "EntryNotFound")
            return QStringLiteral("A file of %1 at \"%2\" is missing on the Hub.").arg(repoId, revision);
        return QStringLiteral("No repository %1 (revision \"%2\") on %3.").arg(repoId, revision, hub.endpoint);
    }
    if (status == 429) return QStringLiteral("The Hub is rate-limiting downloads (HTTP 429); try again later.");
    if (status >= 500) return QStringLiteral("The Hub had a server error (HTTP %1); try again later.").arg(status);
    return QStringLiteral("The Hub answered HTTP %1 for %2.").arg(status).arg(repoId);
}

QString formatBytes(qint64 bytes) {
    return QLocale::c().formattedDataSize(bytes, 1, QLocale::DataSizeIecFormat);
}

}  // namespace fm::downloads
