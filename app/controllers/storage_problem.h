#pragma once
// Why the conversations cannot be saved, in words a user can act on. SQLite's own messages
// ("attempt to write a readonly database", "database or disk is full", "database is locked")
// name the symptom, not the folder or the fix; a read-only data folder used to be reported as
// a corrupt database while the composer stayed enabled, so a typed message was lost.

#include <QString>
#include <QtGlobal>

namespace fm::app {

// What the file system says about the data folder (gathered only when an error happened).
struct StorageFacts {
    bool folderWritable = true;
    qint64 bytesAvailable = -1;  // -1: unknown
};
StorageFacts storageFactsFor(const QString& dataDir);

struct StorageProblem {
    enum class Kind {
        None,      // not a storage problem (a bad input, a missing row): nothing to disable
        ReadOnly,  // the folder or the database file cannot be written
        DiskFull,  // no space left where the database lives
        Locked,    // another program holds the database's lock
    };
    Kind kind = Kind::None;
    QString message;  // what, where and what to do; empty for None
};

// `error`: a storage error as the store reports it; `dataDir`: the folder it concerns.
StorageProblem classifyStorageError(const QString& error, const QString& dataDir, const StorageFacts& facts);

// Below this much free space a failed write is put down to a full disk.
constexpr qint64 kNearlyFullBytes = 64ll * 1024 * 1024;

}  // namespace fm::app
