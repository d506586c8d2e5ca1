#include "app/qml_engine_setup.h"

#include <QQmlEngine>
#include <QQuickStyle>
#include <QQuickWindow>

namespace fm::app {

void setUpQuickControlsStyle() {
    // Material: it has a real dark theme and follows the system's one (Material.System).
    // Dense is the desktop density (the default is sized for touch screens).
    if (qEnvironmentVariableIsEmpty("QT_QUICK_CONTROLS_STYLE")) QQuickStyle::setStyle(QStringLiteral("Material"));
    if (qEnvironmentVariableIsEmpty("QT_QUICK_CONTROLS_MATERIAL_VARIANT"))
        qputenv("QT_QUICK_CONTROLS_MATERIAL_VARIANT", "Dense");
}

void setUpQmlEngine(QQmlEngine& engine) {
    // Qt 6.4 does not search qrc:/qt/qml by default (6.5 does); our modules live there.
    engine.addImportPath(QStringLiteral("qrc:/qt/qml"));
    engine.addImportPath(QStringLiteral("qrc:/"));  // modules built with Qt 6.4's default prefix
}

QUrl mainWindowUrl() {
    return QUrl(QStringLiteral("qrc:/qt/qml/FalconMamba/Ui/Main.qml"));
}

void bringToFront(QQuickWindow* window) {
    if (window->visibility() == QWindow::Minimized || window->visibility() == QWindow::Hidden) window->showNormal();
    window->raise();
    window->requestActivate();
}

}  // namespace fm::app
