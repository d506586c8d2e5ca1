#pragma once

namespace fm::app {

// Makes the statically linked QML modules (FalconMamba.App, FalconMamba.Models,
// FalconMamba.Ui) known to the QML engine. Call once before creating an engine.
void importStaticQmlPlugins();

}  // namespace fm::app
