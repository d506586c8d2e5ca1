#include "app/qml_plugins.h"

#include <QtQml/QQmlExtensionPlugin>

// Q_IMPORT_QML_PLUGIN defines static registrars; they live in this translation unit, which
// importStaticQmlPlugins() forces into the link (a static library drops unreferenced objects).
Q_IMPORT_QML_PLUGIN(FalconMamba_AppPlugin)
Q_IMPORT_QML_PLUGIN(FalconMamba_ModelsPlugin)
Q_IMPORT_QML_PLUGIN(FalconMamba_UiPlugin)
Q_IMPORT_QML_PLUGIN(FalconMamba_Ui_ControlsPlugin)
Q_IMPORT_QML_PLUGIN(FalconMamba_Ui_MarkdownPlugin)

namespace fm::app {

void importStaticQmlPlugins() {
    // Nothing to do at run time: referencing this function is what links the registrars.
}

}  // namespace fm::app
