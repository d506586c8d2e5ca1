#include "app/checkpoint_inspection.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>

#include "inference/checkpoint/config.h"

namespace fm::app {
namespace {

bool hasWeights(const QDir& dir) {
    return !dir.entryList({QStringLiteral("*.safetensors")}, QDir::Files).isEmpty() ||
           dir.exists(QStringLiteral("model.safetensors.index.json"));
}

bool hasTokenizer(const QDir& dir) {
    return dir.exists(QStringLiteral("tokenizer.json")) || dir.exists(QStringLiteral("tokenizer.model"));
}

// Reads only model_type: scanning a cache must not trip over configs we cannot load fully.
QString modelTypeOf(const QString& configPath) {
    QFile file(configPath);
    if (!file.open(QIODevice::ReadOnly)) return {};
    if (file.size() > 1024 * 1024) return {};  // not a model config
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll());
    return doc.object().value(QStringLiteral("model_type")).toString();
}

}  // namespace

QString checkpointDisplayName(const QString& dir) {
    const QFileInfo info(QDir::cleanPath(dir));
    const QDir snapshots = info.dir();
    if (snapshots.dirName() == QStringLiteral("snapshots")) {
        QDir repo = snapshots;
        repo.cdUp();
        QString name = repo.dirName();
        if (name.startsWith(QStringLiteral("models--"))) {
            name = name.mid(8);
            name.replace(QStringLiteral("--"), QStringLiteral("/"));
            return name;
        }
    }
    return info.fileName();
}

namespace {

// The checks in the order a person fixes them: folder, config.json (parsed only when asked),
// weights, tokenizer.
CheckpointCheck checkFolder(const QString& path, bool parseConfig) {
    CheckpointCheck check;
    if (path.trimmed().isEmpty()) {
        check.message = QStringLiteral("Choose a checkpoint folder.");
        return check;
    }
    const QFileInfo info(path);
    if (!info.exists()) {
        check.message = QStringLiteral("The folder %1 does not exist.").arg(QDir::toNativeSeparators(path));
        return check;
    }
    if (!info.isDir()) {
        check.message = QStringLiteral("%1 is a file; choose the folder that contains config.json.")
                            .arg(QDir::toNativeSeparators(path));
        return check;
    }
    const QDir dir(path);
    check.displayName = checkpointDisplayName(path);
    if (!dir.exists(QStringLiteral("config.json"))) {
        check.message = QStringLiteral("No config.json in this folder: it is not a Hugging Face checkpoint.");
        return check;
    }
    if (parseConfig) {
        auto config = fm::ModelConfig::load(path.toStdString());
        if (!config) {
            check.message =
                QStringLiteral("config.json cannot be used: %1").arg(QString::fromStdString(config.error()));
            return check;
        }
        check.modelType = QString::fromStdString(config->model_type);
        check.parameterCount = config->parameter_count();
    }
    if (!hasWeights(dir)) {
        check.message = QStringLiteral("No weights (*.safetensors) in this folder.");
        return check;
    }
    if (!hasTokenizer(dir)) {
        check.message = QStringLiteral("No tokenizer in this folder (tokenizer.json or tokenizer.model).");
        return check;
    }
    check.ok = true;
    return check;
}

}  // namespace

CheckpointCheck checkCheckpointFiles(const QString& path) {
    return checkFolder(path, false);
}

CheckpointCheck checkCheckpointFolder(const QString& path) {
    CheckpointCheck check = checkFolder(path, true);
    if (!check.ok) return check;
    const double billions = static_cast<double>(check.parameterCount) / 1e9;
    check.message = billions >= 0.1
                        ? QStringLiteral("%1 · %2 · %3B parameters")
                              .arg(check.displayName, check.modelType, QLocale().toString(billions, 'f', 1))
                        : QStringLiteral("%1 · %2 · %3 parameters")
                              .arg(check.displayName, check.modelType, QLocale().toString(check.parameterCount));
    return check;
}

QString huggingFaceHubCache(const QProcessEnvironment& env) {
    if (const QString hub = env.value(QStringLiteral("HF_HUB_CACHE")); !hub.isEmpty()) return hub;
    if (const QString home = env.value(QStringLiteral("HF_HOME")); !home.isEmpty())
        return QDir(home).filePath(QStringLiteral("hub"));
    QString cache = env.value(QStringLiteral("XDG_CACHE_HOME"));
    if (cache.isEmpty())
        cache = QDir(env.value(QStringLiteral("HOME"), QDir::homePath())).filePath(QStringLiteral(".cache"));
    return QDir(cache).filePath(QStringLiteral("huggingface/hub"));
}

QList<FoundCheckpoint> findHubCheckpoints(const QString& hubCache) {
    QList<FoundCheckpoint> found;
    const QDir hub(hubCache);
    const QStringList repos =
        hub.entryList({QStringLiteral("models--*")}, QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
    for (const QString& repo : repos) {
        const QDir snapshots(hub.filePath(repo + QStringLiteral("/snapshots")));
        const QFileInfoList entries = snapshots.entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Time);
        for (const QFileInfo& snapshot : entries) {
            const QString type = modelTypeOf(QDir(snapshot.filePath()).filePath(QStringLiteral("config.json")));
            if (type != QStringLiteral("falcon_mamba") && type != QStringLiteral("mamba")) continue;
            found.append({QDir::cleanPath(snapshot.filePath()), checkpointDisplayName(snapshot.filePath()), type});
        }
    }
    return found;
}

}  // namespace fm::app
