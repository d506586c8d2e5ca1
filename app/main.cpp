// falcon-mamba-chat: the desktop app. Everything but this function lives in fm_app.

#include <QGuiApplication>
#include <QIcon>
#include <QQmlApplicationEngine>

#include <cstdio>

#include "app/app_environment.h"
#include "app/command_line.h"
#include "app/controllers/app_controller.h"
#include "app/qml_engine_setup.h"
#include "app/qml_plugins.h"

int main(int argc, char* argv[]) {
    QGuiApplication::setOrganizationName(QStringLiteral("FalconMambaChat"));
    QGuiApplication::setApplicationName(QStringLiteral("falcon-mamba-chat"));
    QGuiApplication::setApplicationDisplayName(QStringLiteral("Falcon Mamba Chat"));
    QGuiApplication::setApplicationVersion(fm::app::applicationVersion());
    QGuiApplication::setDesktopFileName(QStringLiteral("falcon-mamba-chat"));
    fm::app::CommandLineOptions options;
    {
        // Parsed before the GUI starts: --version and --help work without a display.
        QCoreApplication parsing(argc, argv);
        options = fm::app::parseCommandLine(QCoreApplication::arguments());
    }
    if (!options.error.isEmpty()) {
        std::fprintf(stderr, "%s\n\n%s", qPrintable(options.error), qPrintable(options.helpText));
        return 1;
    }
    if (options.showHelp) {
        std::fputs(qPrintable(options.helpText), stdout);
        return 0;
    }
    if (options.showVersion) {
        std::printf("%s\n", qPrintable(options.versionText));
        return 0;
    }

    fm::app::setUpQuickControlsStyle();
    QGuiApplication application(argc, argv);
    QGuiApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/falcon-mamba-chat-256.png")));

    fm::app::importStaticQmlPlugins();
    fm::app::AppController app(fm::app::defaultAppEnvironment());
    QQmlApplicationEngine engine;
    fm::app::setUpQmlEngine(engine);
    engine.setInitialProperties({{QStringLiteral("app"), QVariant::fromValue(&app)}});
    engine.load(fm::app::mainWindowUrl());
    if (engine.rootObjects().isEmpty()) return 1;

    if (!options.modelDir.isEmpty()) app.models()->load(options.modelDir);
    return application.exec();
}
