#include "app/controllers/storage_problem.h"

#include <QDir>
#include <QFileInfo>
#include <QLocale>
#include <QStorageInfo>

namespace fm::app {

StorageFacts storageFactsFor(const QString& dataDir) {
    StorageFacts facts;
    const QFileInfo folder(dataDir);
    facts.folderWritable = !folder.exists() || folder.isWritable();
    const QStorageInfo volume(folder.exists() ? dataDir : folder.absolutePath());
    if (volume.isValid()) facts.bytesAvailable = volume.bytesAvailable();
    return facts;
}

StorageProblem classifyStorageError(const QString& error, const QString& dataDir, const StorageFacts& facts) {
    const QString folder = QDir::toNativeSeparators(dataDir);
    const QString text = error.toLower();
    const bool nearlyFull = facts.bytesAvailable >= 0 && facts.bytesAvailable < kNearlyFullBytes;
    if (text.contains(QLatin1String("database or disk is full")) || text.contains(QLatin1String("no space left")) ||
        (nearlyFull &&
         (text.contains(QLatin1String("disk i/o error")) || text.contains(QLatin1String("cannot open"))))) {
        const QString free = facts.bytesAvailable >= 0 ? QLocale().formattedDataSize(facts.bytesAvailable) : QString();
        return {StorageProblem::Kind::DiskFull,
                QStringLiteral("The disk holding %1 is full%2, so new messages cannot be saved. Free some space, then "
                               "dismiss this message to go on. Nothing already saved was lost.")
                    .arg(folder, free.isEmpty() ? QString() : QStringLiteral(" (%1 free)").arg(free))};
    }
    if (text.contains(QLatin1String("readonly")) || text.contains(QLatin1String("read-only")) ||
        text.contains(QLatin1String("permission denied")) || text.contains(QLatin1String("access permission")) ||
        !facts.folderWritable) {
        return {StorageProblem::Kind::ReadOnly,
                QStringLiteral("The data folder %1 is read-only, so conversations cannot be saved there. Make it "
                               "writable, or start the app with FM_DATA_DIR set to another folder. Nothing was lost.")
                    .arg(folder)};
    }
    if (text.contains(QLatin1String("database is locked")) || text.contains(QLatin1String("table is locked")) ||
        text.contains(QLatin1String("database is busy"))) {
        return {StorageProblem::Kind::Locked,
                QStringLiteral("Another program is using the conversation database in %1 (it is locked). Close that "
                               "program, then dismiss this message to try again. Nothing was lost.")
                    .arg(folder)};
    }
    return {};
}

}  // namespace fm::app
