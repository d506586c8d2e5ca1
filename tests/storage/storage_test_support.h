#pragma once
// Shared by the conversation-store and list-model tests: a fresh database with its store,
// messages to add, and the ids along a branch the store returns. Header-only.

#include <QList>
#include <QString>
#include <QTemporaryDir>

#include <memory>

#include "app/storage/conversation_store.h"
#include "app/storage/database.h"
#include "app/storage/storage_types.h"

namespace fm::testing {

inline NewMessage message(MessageRole role, const QString& text) {
    NewMessage m;
    m.role = role;
    m.content = text;
    return m;
}

// A new temporary folder for each test function: `reset()` from the test's init().
class ScratchFolder {
public:
    bool reset() {
        dir_ = std::make_unique<QTemporaryDir>();
        return dir_->isValid();
    }
    QString path(const QString& name) const { return dir_->filePath(name); }

private:
    std::unique_ptr<QTemporaryDir> dir_;
};

// A database file in a new temporary folder, and a conversation store over it.
struct StoreFixture {
    QTemporaryDir dir;
    Database db;
    std::unique_ptr<ConversationStore> store;

    // False when the folder or the database cannot be made (db.lastError() says why).
    bool open(const QString& fileName) {
        if (!dir.isValid() || !db.open(dir.filePath(fileName))) return false;
        store = std::make_unique<ConversationStore>(db);
        return true;
    }
};

// The message ids along a branch (a path from the store), in order.
inline QList<qint64> idsOf(const QList<BranchMessage>& branch) {
    QList<qint64> ids;
    for (const BranchMessage& entry : branch) ids.append(entry.message.id);
    return ids;
}

}  // namespace fm::testing
