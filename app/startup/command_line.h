#pragma once
// The GUI's command line, parsed in a function of its own so tests can call it.

#include <QString>
#include <QStringList>

namespace fm::app {

struct CommandLineOptions {
    bool showVersion = false;
    bool showHelp = false;
    QString modelDir;     // --model DIR: load this checkpoint at start
    QString error;        // non-empty: the arguments were wrong; show it and exit(1)
    QString helpText;     // what --help prints
    QString versionText;  // what --version prints
};

// `arguments` includes the program name first, as QCoreApplication::arguments() does.
CommandLineOptions parseCommandLine(const QStringList& arguments);

QString applicationVersion();

}  // namespace fm::app
