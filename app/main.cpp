// falcon-mamba-chat: the desktop app. Everything but this function lives in fm_app.

#include <QDir>
#include <QFileInfo>
#include <QGuiApplication>
#include <QIcon>
#include <QQmlApplicationEngine>
#include <QQuickWindow>

#include <cstdio>

#include "app/controllers/app_controller.h"
#include "app/qml_engine_setup.h"
#include "app/qml_plugins.h"
#include "app/startup/app_environment.h"
#include "app/startup/command_line.h"
#include "app/startup/single_instance.h"

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

    const fm::app::AppEnvironment environment = fm::app::defaultAppEnvironment();
    // One window per data folder: a second start brings the first to the front and exits
    // before it touches the database.
    fm::app::SingleInstance instance(environment.dataDir);
    const QString modelDir = options.modelDir.isEmpty() ? QString() : QFileInfo(options.modelDir).absoluteFilePath();
    switch (instance.claim(modelDir.isEmpty() ? QStringList{} : QStringList{modelDir})) {
    case fm::app::SingleInstance::Role::Primary: break;
    case fm::app::SingleInstance::Role::Secondary:
        std::fprintf(stderr, "Falcon Mamba Chat is already running on %s; showing that window.\n",
                     qPrintable(QDir::toNativeSeparators(environment.dataDir)));
        return 0;
    case fm::app::SingleInstance::Role::Busy:
        std::fprintf(stderr,
                     "Another program (falcon-mamba-cli import?) is using %s; start the app again when it has "
                     "finished.\n",
                     qPrintable(QDir::toNativeSeparators(environment.dataDir)));
        return 1;
    }
    if (!instance.unguardedReason().isEmpty()) std::fprintf(stderr, "%s\n", qPrintable(instance.unguardedReason()));

    fm::app::importStaticQmlPlugins();
    fm::app::AppController app(environment);
    QQmlApplicationEngine engine;
    fm::app::setUpQmlEngine(engine);
    engine.setInitialProperties({{QStringLiteral("app"), QVariant::fromValue(&app)}});
    engine.load(fm::app::mainWindowUrl());
    if (engine.rootObjects().isEmpty()) return 1;
    auto* window = qobject_cast<QQuickWindow*>(engine.rootObjects().constFirst());
    QObject::connect(&instance, &fm::app::SingleInstance::activationRequested, &app,
                     [&app, window](const QStringList& arguments) {
                         if (window) fm::app::bringToFront(window);
                         // A checkpoint named on the second command line: load it here, unless
                         // a reply is being written (loading would cut it off).
                         if (!arguments.isEmpty() && !app.chat()->isGenerating()) app.models()->load(arguments.first());
                     });

    if (!modelDir.isEmpty()) app.models()->load(modelDir);
    return application.exec();
}
