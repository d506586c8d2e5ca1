#pragma once
// What went wrong, for the banner over the chat: the latest error of any chat feature
// (conversations, messages, settings, saving a reply), and the storage problem (read-only
// folder, full disk, locked or unopened database) that keeps the composer off until the user
// dismisses it.

#include <QtQml/qqmlregistration.h>
#include <QObject>
#include <QString>

namespace fm::app {

class ChatErrors : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("ChatErrors is provided by AppController")
    Q_PROPERTY(QString message READ message NOTIFY messageChanged)

public:
    // `haveStore`: the database is open (dismissing a storage problem then means "try again").
    explicit ChatErrors(bool haveStore, QObject* parent = nullptr) : QObject(parent), haveStore_(haveStore) {}

    QString message() const { return message_; }
    // Non-empty while nothing can be saved: why, in words the user can act on.
    QString storageProblem() const { return storageProblem_; }
    // The folder the conversations live in, for the messages about storage problems.
    void setDataDir(const QString& dataDir) { dataDir_ = dataDir; }

    // Shows `message` (empty: hides the banner). A store error that is really the folder's
    // says so and stops the composer, so that nothing more is typed into a chat that cannot
    // be saved.
    void report(const QString& message);
    // A storage error that disables the composer until dismissed, whatever its cause; also
    // how AppController reports a database it could not open.
    void reportStorageError(const QString& error);
    Q_INVOKABLE void dismiss();

signals:
    void messageChanged();
    void storageProblemChanged();

private:
    void setStorageProblem(const QString& problem);

    bool haveStore_;
    QString message_;
    QString storageProblem_;
    QString dataDir_;
};

}  // namespace fm::app
