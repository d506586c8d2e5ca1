#pragma once
// Shared by the window tests: one app start (controller, engine, window) that records every
// QML warning, and small helpers to find items and save pictures.

#include <QDir>
#include <QQmlApplicationEngine>
#include <QQuickItem>
#include <QQuickWindow>
#include <QTest>

#include <memory>

#include "app/controllers/app_controller.h"
#include "app/qml_engine_setup.h"

namespace fm::app::testing {

// One app start: controller, engine, window.
struct RunningApp {
    std::unique_ptr<AppController> app;
    std::unique_ptr<QQmlApplicationEngine> engine;
    QQuickWindow* window = nullptr;
    QStringList warnings;

    explicit RunningApp(const AppEnvironment& env) {
        app = std::make_unique<AppController>(env);
        engine = std::make_unique<QQmlApplicationEngine>();
        QObject::connect(engine.get(), &QQmlEngine::warnings, engine.get(), [this](const QList<QQmlError>& list) {
            for (const QQmlError& e : list) warnings << e.toString();
        });
        setUpQmlEngine(*engine);
        engine->setInitialProperties({{QStringLiteral("app"), QVariant::fromValue(app.get())}});
        engine->load(mainWindowUrl());
        if (!engine->rootObjects().isEmpty()) window = qobject_cast<QQuickWindow*>(engine->rootObjects().first());
    }
    ~RunningApp() {
        engine.reset();  // the window goes before the controllers it binds to
        app.reset();
    }

    template <typename T = QQuickItem>
    T* find(const char* objectName) const {
        return window ? window->findChild<T*>(QString::fromLatin1(objectName)) : nullptr;
    }
};

// Saves a grab of the window into the build folder and, when FM_SCREENSHOT_DIR is set, there too.
inline bool saveScreenshot(QQuickWindow* window, const QString& name) {
    const QImage image = window->grabWindow();
    bool ok = !image.isNull();
    QStringList folders{QStringLiteral(FM_BINARY_DIR)};
    if (qEnvironmentVariableIsSet("FM_SCREENSHOT_DIR")) folders << qEnvironmentVariable("FM_SCREENSHOT_DIR");
    for (const QString& folder : folders) {
        const QString path = QDir(folder).filePath(name);
        const bool saved = ok && image.save(path);
        qInfo("screenshot %s: %s", qPrintable(path), saved ? "saved" : "FAILED");
        ok = ok && saved;
    }
    return ok;
}

// QTest::keyClicks exists for widgets only.
inline void typeText(QWindow* window, const QString& text) {
    for (const QChar c : text) QTest::keyClick(window, c.toLatin1());
}

}  // namespace fm::app::testing
