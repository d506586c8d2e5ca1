// Export speed, as the app exports (writeExport to a file): one conversation of 10,000 and of 100,000 messages, and one
// message made of a single 1 MB line, rendered in every format (Markdown, HTML, plain text, PDF, JSON). Prints JSON:
// seconds and bytes per case, and per format the ratio of the 100k time to the 10k time (linear growth shows as about
// 10).
//
//   bench_export [--formats md,html,txt,pdf,json] [--large N] [--small N]

#include <QElapsedTimer>
#include <QGuiApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include <cstdio>

#include "app/export/exporter.h"

using namespace fm;

namespace {

ConversationArchive conversationOf(qint64 messages, qsizetype lineBytes) {
    ConversationArchive a;
    a.conversation.title = QStringLiteral("Benchmark");
    a.conversation.createdAtMs = a.conversation.updatedAtMs = 1'750'000'000'000;
    qint64 parent = 0;
    for (qint64 i = 0; i < messages; ++i) {
        Message m;
        m.id = i + 1;
        m.parentId = parent;
        m.role = i % 2 == 0 ? MessageRole::User : MessageRole::Assistant;
        m.content = lineBytes > 0 ? QString(lineBytes, QLatin1Char('x'))
                                  : QStringLiteral(
                                        "Message %1: some *Markdown*, `code` and <html> & more.\n"
                                        "```cpp\nint main() { return %1; }\n```\nThe end.")
                                        .arg(i);
        m.createdAtMs = m.updatedAtMs = a.conversation.createdAtMs + i;
        a.messages.append(m);
        parent = m.id;
    }
    a.conversation.currentLeafMessageId = parent;
    return a;
}

struct Case {
    QString name;
    ConversationArchive archive;
};

}  // namespace

int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);  // the PDF writer needs fonts
    QStringList formats{QStringLiteral("md"), QStringLiteral("html"), QStringLiteral("txt"), QStringLiteral("pdf"),
                        QStringLiteral("json")};
    qint64 large = 100000, small = 10000;
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i + 1 < args.size(); i += 2) {
        if (args[i] == QStringLiteral("--formats")) formats = args[i + 1].split(QLatin1Char(','));
        if (args[i] == QStringLiteral("--large")) large = args[i + 1].toLongLong();
        if (args[i] == QStringLiteral("--small")) small = args[i + 1].toLongLong();
    }
    const QList<Case> cases{{QStringLiteral("messages_%1").arg(small), conversationOf(small, 0)},
                            {QStringLiteral("messages_%1").arg(large), conversationOf(large, 0)},
                            {QStringLiteral("one_1MB_line"), conversationOf(1, 1 << 20)}};
    QTemporaryDir dir;
    QJsonObject results;
    for (const QString& name : formats) {
        const auto format = exportFormatFromText(name);
        if (!format) {
            std::fprintf(stderr, "unknown format %s\n", qPrintable(name));
            return 2;
        }
        QJsonObject perFormat;
        double smallSeconds = 0, largeSeconds = 0;
        for (const Case& c : cases) {
            QElapsedTimer timer;
            timer.start();
            Result<ExportSummary> bytes =
                writeExport({c.archive}, *format, dir.filePath(c.name + QLatin1Char('.') + name));
            const double seconds = double(timer.nsecsElapsed()) / 1e9;
            if (!bytes) {
                std::fprintf(stderr, "%s %s: %s\n", qPrintable(name), qPrintable(c.name), bytes.error().c_str());
                return 1;
            }
            perFormat[c.name] =
                QJsonObject{{QStringLiteral("seconds"), seconds}, {QStringLiteral("bytes"), double(bytes->bytes)}};
            if (c.name.endsWith(QString::number(small)) && c.name.startsWith(QStringLiteral("messages"))) {
                smallSeconds = seconds;
            } else if (c.name.startsWith(QStringLiteral("messages"))) {
                largeSeconds = seconds;
            }
        }
        perFormat[QStringLiteral("growth_%1_over_%2").arg(large).arg(small)] =
            smallSeconds > 0 ? largeSeconds / smallSeconds : 0.0;
        results[name] = perFormat;
    }
    std::printf("%s\n", QJsonDocument(QJsonObject{{QStringLiteral("bench"), QStringLiteral("export")},
                                                  {QStringLiteral("results"), results}})
                            .toJson(QJsonDocument::Indented)
                            .constData());
    return 0;
}
