#include "app/startup/command_line.h"

#include <QCommandLineParser>
#include <QDir>

namespace fm::app {

QString applicationVersion() {
    return QStringLiteral(FM_APP_VERSION);
}

CommandLineOptions parseCommandLine(const QStringList& arguments) {
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Falcon Mamba Chat: private, local chat with Falcon Mamba models."));
    const QCommandLineOption help = parser.addHelpOption();
    const QCommandLineOption version = parser.addVersionOption();
    const QCommandLineOption model(QStringList{QStringLiteral("model"), QStringLiteral("m")},
                                   QStringLiteral("Load the checkpoint in <dir> at start."), QStringLiteral("dir"));
    parser.addOption(model);

    CommandLineOptions options;
    options.helpText = parser.helpText();
    options.versionText = QStringLiteral("falcon-mamba-chat %1").arg(applicationVersion());
    // parse(), not process(): process() would print and exit, which a test cannot survive.
    if (!parser.parse(arguments)) {
        options.error = parser.errorText();
        return options;
    }
    if (!parser.positionalArguments().isEmpty()) {
        options.error = QStringLiteral("Unexpected argument: %1").arg(parser.positionalArguments().first());
        return options;
    }
    options.showHelp = parser.isSet(help);
    options.showVersion = parser.isSet(version);
    if (parser.isSet(model)) {
        const QString dir = parser.value(model);
        if (dir.isEmpty()) {
            options.error = QStringLiteral("--model needs a checkpoint folder");
            return options;
        }
        options.modelDir = QDir::cleanPath(QDir::current().absoluteFilePath(dir));
    }
    return options;
}

}  // namespace fm::app
