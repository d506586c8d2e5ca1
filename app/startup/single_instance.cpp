#include "app/startup/single_instance.h"

#include <QCryptographicHash>
#include <QDataStream>
#include <QDir>
#include <QFileInfo>
#include <QLocalSocket>
#include <QThread>

namespace fm::app {
namespace {

constexpr int kConnectTimeoutMs = 1000;
// The first process may be busy for a moment (starting up, loading); a few tries cover that.
constexpr int kConnectAttempts = 3;

}  // namespace

SingleInstance::SingleInstance(const QString& dataDir, QObject* parent) : QObject(parent), dataDir_(dataDir) {}

SingleInstance::~SingleInstance() = default;

QString SingleInstance::serverName(const QString& dataDir) {
    const QString canonical = QFileInfo(dataDir).canonicalFilePath();
    const QString key = canonical.isEmpty() ? QDir::cleanPath(QDir(dataDir).absolutePath()) : canonical;
    const QByteArray hash = QCryptographicHash::hash(key.toUtf8(), QCryptographicHash::Sha256).toHex().left(16);
    return QStringLiteral("falcon-mamba-chat-") + QString::fromLatin1(hash);
}

QString SingleInstance::lockFilePath(const QString& dataDir) {
    return QDir(dataDir).filePath(QStringLiteral("falcon-mamba-chat.lock"));
}

SingleInstance::Role SingleInstance::claim(const QStringList& arguments) {
    QDir().mkpath(dataDir_);
    lock_ = std::make_unique<QLockFile>(lockFilePath(dataDir_));
    lock_->setStaleLockTime(0);  // only a dead owner makes it stale, never its age
    for (int attempt = 0; attempt < kConnectAttempts; ++attempt) {
        if (lock_->tryLock(0)) {
            listen();
            return Role::Primary;
        }
        if (lock_->error() != QLockFile::LockFailedError) {
            unguardedReason_ = QStringLiteral(
                                   "%1 cannot be created (%2), so a second window on this folder is not "
                                   "prevented")
                                   .arg(QDir::toNativeSeparators(lockFilePath(dataDir_)),
                                        lock_->error() == QLockFile::PermissionError ? QStringLiteral("no permission")
                                                                                     : QStringLiteral("unknown error"));
            lock_.reset();
            return Role::Primary;
        }
        if (attempt > 0) QThread::msleep(200);  // a starting owner may not listen yet
        QLocalSocket socket;
        socket.connectToServer(serverName(dataDir_));
        if (socket.waitForConnected(kConnectTimeoutMs)) {
            QByteArray request;
            QDataStream out(&request, QIODevice::WriteOnly);
            out << arguments;
            socket.write(request);
            socket.waitForBytesWritten(kConnectTimeoutMs);
            socket.disconnectFromServer();
            if (socket.state() != QLocalSocket::UnconnectedState) socket.waitForDisconnected(kConnectTimeoutMs);
            return Role::Secondary;
        }
    }
    // The owner holds the lock but does not answer (a CLI import, a hung or starting app):
    // never open the database beside it.
    return Role::Busy;
}

void SingleInstance::listen() {
    server_ = std::make_unique<QLocalServer>();
    server_->setSocketOptions(QLocalServer::UserAccessOption);
    const QString name = serverName(dataDir_);
    // We hold the lock, so a socket file of that name is a leftover of a crashed owner.
    QLocalServer::removeServer(name);
    if (!server_->listen(name)) {
        unguardedReason_ = QStringLiteral("Cannot listen on %1: %2").arg(name, server_->errorString());
        return;
    }
    connect(server_.get(), &QLocalServer::newConnection, this, [this] {
        while (QLocalSocket* socket = server_->nextPendingConnection()) {
            connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
            connect(socket, &QLocalSocket::readyRead, this, [this, socket] { readRequest(socket); });
        }
    });
}

void SingleInstance::readRequest(QLocalSocket* socket) {
    // The request is one QStringList; wait until all of it is there.
    QDataStream stream(socket);
    stream.startTransaction();
    QStringList arguments;
    stream >> arguments;
    if (!stream.commitTransaction()) return;
    emit activationRequested(arguments);
}

}  // namespace fm::app
