import QtQuick
import QtQuick.Controls.Material

// A visible ring around the region (or row) that has the keyboard focus. Placed as a child
// of the item it rings; it draws just outside it and takes no input.
Rectangle {
    property bool shown: false
    property int outset: 2  // 0 inside views that clip
    anchors.fill: parent
    anchors.margins: -outset
    visible: shown
    color: "transparent"
    radius: 8
    border.width: 2
    border.color: Material.accent
    z: 100
}
