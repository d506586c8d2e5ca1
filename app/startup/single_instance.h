#pragma once
// One window per data folder. The first process to start on a folder holds a lock file in it
// and listens on a local socket named after the folder; a later start on the same folder
// finds the lock, asks the first one to come to the front (passing along what it was asked
// to open) and exits without opening the database. Without this, the second process
// marked the first one's live reply as interrupted at its start-up and the two wrote over
// each other's conversations.
//
// A lock left behind by a process that died is taken over (QLockFile checks the owner's
// PID). When the folder cannot hold a lock at all (read-only), the app runs unguarded; the
// database's own error then says what is wrong with the folder.

#include <QLocalServer>
#include <QLockFile>
#include <QObject>
#include <QStringList>

#include <memory>

namespace fm::app {

class SingleInstance : public QObject {
    Q_OBJECT

public:
    explicit SingleInstance(const QString& dataDir, QObject* parent = nullptr);
    ~SingleInstance() override;

    enum class Role {
        Primary,    // this process owns the folder (or nobody can lock it): start the app
        Secondary,  // another process owns it and was told to come to the front: exit
        Busy,       // something holds the lock but no window answers (a CLI import): exit
    };
    // Takes the folder's lock, or hands `arguments` to the process that has it. Never blocks
    // for more than about a second.
    Role claim(const QStringList& arguments);

    // Why the folder could not be locked (empty when it was locked or handed over).
    QString unguardedReason() const { return unguardedReason_; }

    // The local socket's name for `dataDir`: stable for the canonical path, short enough for
    // every platform's limit.
    static QString serverName(const QString& dataDir);
    static QString lockFilePath(const QString& dataDir);

signals:
    // A later start on the same folder asked for the window (with its command-line arguments).
    void activationRequested(const QStringList& arguments);

private:
    void listen();
    void readRequest(class QLocalSocket* socket);

    QString dataDir_;
    std::unique_ptr<QLockFile> lock_;
    std::unique_ptr<QLocalServer> server_;
    QString unguardedReason_;
};

}  // namespace fm::app
