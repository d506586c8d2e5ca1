#pragma once
// A small stand-in for the Hugging Face Hub on 127.0.0.1, for the download tests: the model API
// (/api/models/<repo>/revision/<rev>?blobs=true), resolve URLs (/<repo>/resolve/<rev>/<file>)
// that answer small files directly and redirect LFS files to a second server playing the CDN
// (another port, so another origin, as on huggingface.co), Range requests there, and the Hub's
// X-Error-Code / X-Repo-Commit / ETag headers. Faults are set per file: HTTP errors, a cut
// connection, a flipped byte, a stall. Every request is logged for the tests to assert on.

#include <QCryptographicHash>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QPointer>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrl>

namespace fm::testing {

struct MockFile {
    QString path;
    QByteArray content;
    bool lfs = false;
    QString sha256() const {
        return QString::fromLatin1(QCryptographicHash::hash(content, QCryptographicHash::Sha256).toHex());
    }
    QString blobId() const {
        // git's object id: sha1 of "blob <size>\0" + content (for LFS files, of the pointer file)
        const QByteArray body = lfs ? QByteArray("version https://git-lfs.github.com/spec/v1\noid sha256:") +
                                          sha256().toLatin1() + "\nsize " + QByteArray::number(content.size()) + "\n"
                                    : content;
        return QString::fromLatin1(
            QCryptographicHash::hash("blob " + QByteArray::number(body.size()) + '\0' + body, QCryptographicHash::Sha1)
                .toHex());
    }
};

struct MockRepo {
    QString commit;
    QList<MockFile> files;
    bool gated = false;  // needs the token "good-token"
};

struct MockFault {
    QList<int> statuses;         // answered, one per request, before the file is served
    double cutAtFraction = -1;   // the next body stops there and the connection closes
    bool stallAfterCut = false;  // ... or stays open, sending nothing more
    int corruptTimes = 0;        // the next N bodies have one byte flipped
    bool stall = false;          // every request: headers never come
    bool ignoreRange = false;    // answers 200 with the whole file, as some servers do
};

struct MockRequest {
    QString method;
    QString path;  // decoded path, without the query
    QByteArray range;
    QByteArray authorization;
    int status = 0;
    qint64 bodyBytes = 0;  // body bytes sent
    bool cdn = false;
};

class MockHub : public QObject {
public:
    MockHub() {
        for (QTcpServer* server : {&hub_, &cdn_}) {
            server->listen(QHostAddress::LocalHost, 0);
            connect(server, &QTcpServer::newConnection, this, [this, server] {
                while (QTcpSocket* socket = server->nextPendingConnection()) {
                    socket->setParent(this);
                    connect(socket, &QTcpSocket::readyRead, this,
                            [this, socket, server] { onData(socket, server == &cdn_); });
                }
            });
        }
    }

    QString endpoint() const { return QStringLiteral("http://127.0.0.1:%1").arg(hub_.serverPort()); }
    QMap<QString, MockRepo> repos;
    QMap<QString, MockFault> faults;  // by file path
    QList<MockRequest> log;

    QList<MockRequest> requestsFor(const QString& fileName) const {
        QList<MockRequest> found;
        for (const MockRequest& r : log) {
            if (r.path.endsWith(u'/' + fileName) || (r.cdn && fileForBlob(r.path.section(u'/', -1)) == fileName))
                found.append(r);
        }
        return found;
    }
    // Those of requestsFor(fileName) that fetched its content from the CDN, in order.
    QList<MockRequest> cdnRequestsFor(const QString& fileName) const {
        QList<MockRequest> found;
        for (const MockRequest& r : requestsFor(fileName))
            if (r.cdn) found.append(r);
        return found;
    }
    QString fileForBlob(const QString& sha) const {
        for (const MockRepo& repo : repos)
            for (const MockFile& f : repo.files)
                if (f.lfs && f.sha256() == sha) return f.path;
        return {};
    }

private:
    void onData(QTcpSocket* socket, bool cdn) {
        QByteArray& buffer = buffers_[socket];
        buffer += socket->readAll();
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const QList<QByteArray> lines = buffer.left(end).split('\n');
        qint64 contentLength = 0;
        for (const QByteArray& line : lines)
            if (line.toLower().startsWith("content-length:")) contentLength = line.mid(15).trimmed().toLongLong();
        if (buffer.size() < end + 4 + contentLength) return;  // wait for the body (paths-info posts JSON)
        const QByteArray requestBody = buffer.mid(end + 4, contentLength);
        buffer.clear();
        const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
        MockRequest request;
        request.method = QString::fromLatin1(requestLine.value(0));
        const QUrl url(QString::fromLatin1(requestLine.value(1)));
        request.path = QUrl::fromPercentEncoding(url.path(QUrl::FullyEncoded).toLatin1());
        request.cdn = cdn;
        for (const QByteArray& line : lines.mid(1)) {
            const qsizetype colon = line.indexOf(':');
            const QByteArray name = line.left(colon).trimmed().toLower();
            const QByteArray value = line.mid(colon + 1).trimmed();
            if (name == "range") request.range = value;
            if (name == "authorization") request.authorization = value;
        }
        log.append(request);
        const qsizetype index = log.size() - 1;
        if (cdn) {
            serveCdn(socket, index);
        } else if (request.method == QStringLiteral("POST")) {
            servePathsInfo(socket, index, requestBody);
        } else {
            serveHub(socket, index, url);
        }
    }

    void respond(QTcpSocket* socket, qsizetype index, int status, const QList<QByteArray>& headers,
                 const QByteArray& body, qint64 contentLength = -1, bool closeEarly = false) {
        log[index].status = status;
        QByteArray head = "HTTP/1.1 " + QByteArray::number(status) + " X\r\n";
        for (const QByteArray& h : headers) head += h + "\r\n";
        head += "Content-Length: " + QByteArray::number(contentLength < 0 ? body.size() : contentLength) + "\r\n";
        head += "Connection: close\r\n\r\n";
        socket->write(head);
        socket->write(body);
        log[index].bodyBytes = body.size();
        if (!closeEarly) socket->disconnectFromHost();
    }

    static QList<QByteArray> commonHeaders(const MockRepo& repo) {
        return {"X-Repo-Commit: " + repo.commit.toLatin1()};
    }

    // Error statuses and stalls set for `file`; true when the request was answered that way.
    bool applyFault(QTcpSocket* socket, qsizetype index, const QString& file) {
        MockFault& fault = faults[file];
        if (fault.stall) return true;  // never answer
        if (!fault.statuses.isEmpty()) {
            respond(socket, index, fault.statuses.takeFirst(), {}, "{\"error\":\"injected\"}");
            return true;
        }
        return false;
    }

    void serveHub(QTcpSocket* socket, qsizetype index, const QUrl& url) {
        static const QRegularExpression api(QStringLiteral("^/api/models/(.+)/revision/([^/]+)$"));
        static const QRegularExpression resolve(QStringLiteral("^/(.+?)/resolve/([^/]+)/(.+)$"));
        const QString path = log[index].path;
        const QString rawPath = url.path(QUrl::FullyEncoded);
        QString repoId, revision, file;
        if (const auto m = api.match(rawPath); m.hasMatch()) {
            repoId = QUrl::fromPercentEncoding(m.captured(1).toLatin1());
            revision = QUrl::fromPercentEncoding(m.captured(2).toLatin1());
        } else if (const auto r = resolve.match(rawPath); r.hasMatch()) {
            repoId = QUrl::fromPercentEncoding(r.captured(1).toLatin1());
            revision = QUrl::fromPercentEncoding(r.captured(2).toLatin1());
            file = QUrl::fromPercentEncoding(r.captured(3).toLatin1());
        } else {
            respond(socket, index, 404, {}, "not found");
            return;
        }
        if (!repos.contains(repoId)) {
            respond(socket, index, 404, {"X-Error-Code: RepoNotFound"}, "{\"error\":\"Repository not found\"}");
            return;
        }
        const MockRepo& repo = repos[repoId];
        if (repo.gated && log[index].authorization != "Bearer good-token") {
            respond(socket, index, 401, {"X-Error-Code: GatedRepo"}, "{\"error\":\"gated\"}");
            return;
        }
        if (revision != QStringLiteral("main") && revision != repo.commit) {
            respond(socket, index, 404, {"X-Error-Code: RevisionNotFound"}, "{\"error\":\"Invalid rev id\"}");
            return;
        }
        if (file.isEmpty()) {
            if (applyFault(socket, index, QStringLiteral("api"))) return;
            QJsonArray siblings;
            for (const MockFile& f : repo.files) {
                QJsonObject entry{{QStringLiteral("rfilename"), f.path},
                                  {QStringLiteral("size"), f.content.size()},
                                  {QStringLiteral("blobId"), f.blobId()}};
                if (f.lfs)
                    entry.insert(QStringLiteral("lfs"), QJsonObject{{QStringLiteral("sha256"), f.sha256()},
                                                                    {QStringLiteral("size"), f.content.size()},
                                                                    {QStringLiteral("pointerSize"), 134}});
                siblings.append(entry);
            }
            const QJsonObject info{{QStringLiteral("id"), repoId},
                                   {QStringLiteral("sha"), repo.commit},
                                   {QStringLiteral("siblings"), siblings}};
            respond(socket, index, 200, commonHeaders(repo) << "Content-Type: application/json",
                    QJsonDocument(info).toJson(QJsonDocument::Compact));
            return;
        }
        const MockFile* found = nullptr;
        for (const MockFile& f : repo.files)
            if (f.path == file) found = &f;
        if (found == nullptr) {
            respond(socket, index, 404, {"X-Error-Code: EntryNotFound"}, "{\"error\":\"Entry not found\"}");
            return;
        }
        if (applyFault(socket, index, file)) return;
        if (found->lfs) {
            const QByteArray location = QStringLiteral("http://127.0.0.1:%1/cdn/%2?signature=abc")
                                            .arg(cdn_.serverPort())
                                            .arg(found->sha256())
                                            .toLatin1();
            respond(socket, index, 302,
                    commonHeaders(repo) << "Location: " + location
                                        << "X-Linked-Etag: \"" + found->sha256().toLatin1() + "\""
                                        << "X-Linked-Size: " + QByteArray::number(found->content.size()),
                    {});
            return;
        }
        serveBody(socket, index, *found, commonHeaders(repo) << "ETag: \"" + found->blobId().toLatin1() + "\"");
        Q_UNUSED(path);
    }

    // POST /api/models/<repo>/paths-info/<rev> {"paths": [...]}: what @huggingface/hub asks
    // before it downloads a file.
    void servePathsInfo(QTcpSocket* socket, qsizetype index, const QByteArray& body) {
        static const QRegularExpression route(QStringLiteral("^/api/models/(.+)/paths-info/([^/]+)$"));
        const auto m = route.match(log[index].path);
        if (!m.hasMatch() || !repos.contains(m.captured(1))) {
            respond(socket, index, 404, {"X-Error-Code: RepoNotFound"}, "{}");
            return;
        }
        const MockRepo& repo = repos[m.captured(1)];
        QJsonArray entries;
        const QJsonArray paths = QJsonDocument::fromJson(body).object().value(QStringLiteral("paths")).toArray();
        for (const QJsonValue& wanted : paths)
            for (const MockFile& f : repo.files) {
                if (f.path != wanted.toString()) continue;
                QJsonObject entry{{QStringLiteral("type"), QStringLiteral("file")},
                                  {QStringLiteral("path"), f.path},
                                  {QStringLiteral("size"), f.content.size()},
                                  {QStringLiteral("oid"), f.blobId()},
                                  {QStringLiteral("lastCommit"),
                                   QJsonObject{{QStringLiteral("id"), repo.commit},
                                               {QStringLiteral("title"), QStringLiteral("Upload")},
                                               {QStringLiteral("date"), QStringLiteral("2024-08-12T00:00:00.000Z")}}}};
                if (f.lfs)
                    entry.insert(QStringLiteral("lfs"), QJsonObject{{QStringLiteral("oid"), f.sha256()},
                                                                    {QStringLiteral("size"), f.content.size()},
                                                                    {QStringLiteral("pointerSize"), 134}});
                entries.append(entry);
            }
        respond(socket, index, 200, {"Content-Type: application/json"},
                QJsonDocument(entries).toJson(QJsonDocument::Compact));
    }

    void serveCdn(QTcpSocket* socket, qsizetype index) {
        const QString sha = log[index].path.section(u'/', -1);
        for (const MockRepo& repo : repos)
            for (const MockFile& f : repo.files)
                if (f.lfs && f.sha256() == sha) {
                    serveBody(socket, index, f, {"Accept-Ranges: bytes", "ETag: \"" + f.sha256().toLatin1() + "\""});
                    return;
                }
        respond(socket, index, 404, {}, "no such object");
    }

    // The file's bytes, honouring "Range: bytes=A-" and "bytes=A-B" and the cut/corrupt faults.
    void serveBody(QTcpSocket* socket, qsizetype index, const MockFile& file, QList<QByteArray> headers) {
        MockFault& fault = faults[file.path];
        QByteArray body = file.content;
        int status = 200;
        qint64 start = 0;
        static const QRegularExpression range(QStringLiteral("^bytes=(\\d+)-(\\d*)$"));
        if (const auto m = range.match(QString::fromLatin1(log[index].range)); m.hasMatch() && !fault.ignoreRange) {
            start = m.captured(1).toLongLong();
            const qint64 last = m.captured(2).isEmpty() ? body.size() - 1
                                                        : std::min<qint64>(m.captured(2).toLongLong(), body.size() - 1);
            if (start >= body.size() || last < start) {
                respond(socket, index, 416, {}, {});
                return;
            }
            status = 206;
            headers << "Content-Range: bytes " + QByteArray::number(start) + '-' + QByteArray::number(last) + '/' +
                           QByteArray::number(body.size());
            body = body.mid(start, last - start + 1);
        }
        if (fault.corruptTimes > 0) {
            --fault.corruptTimes;
            body[body.size() / 2] = char(body[body.size() / 2] ^ 0x5a);
        }
        const qint64 length = body.size();
        if (fault.cutAtFraction >= 0) {
            const qint64 cut = qint64(double(file.content.size()) * fault.cutAtFraction) - start;
            fault.cutAtFraction = -1;
            respond(socket, index, status, headers, body.left(std::max<qint64>(cut, 0)), length, true);
            if (!fault.stallAfterCut) socket->disconnectFromHost();
            return;
        }
        respond(socket, index, status, headers, body);
    }

    QTcpServer hub_;
    QTcpServer cdn_;
    QMap<QTcpSocket*, QByteArray> buffers_;
};

// The tiny chat checkpoint as a Hub repository, with two files a checkpoint does not need.
inline MockRepo tinyChatRepo(const QString& dataDir) {
    MockRepo repo;
    repo.commit = QStringLiteral("0123456789abcdef0123456789abcdef01234567");
    for (const QString& name :
         {QStringLiteral("config.json"), QStringLiteral("generation_config.json"), QStringLiteral("model.safetensors"),
          QStringLiteral("tokenizer.json"), QStringLiteral("tokenizer_config.json")}) {
        QFile file(dataDir + u'/' + name);
        file.open(QIODevice::ReadOnly);
        repo.files.append({name, file.readAll(),
                           name.endsWith(QStringLiteral(".safetensors")) || name == QStringLiteral("tokenizer.json")});
    }
    repo.files.append({QStringLiteral("README.md"), "# tiny chat\n", false});
    repo.files.append({QStringLiteral("pytorch_model.bin"), QByteArray(4096, 'x'), true});
    return repo;
}

}  // namespace fm::testing
