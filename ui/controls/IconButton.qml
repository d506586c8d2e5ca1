import QtQuick
import QtQuick.Controls
import QtQuick.Controls.Material

// A flat round button showing one icon, with a tooltip that doubles as its accessible name.
ToolButton {
    id: control
    property string iconPath
    property string tip
    property color iconColor: control.Material.foreground
    property real iconSize: 18

    implicitWidth: 36
    implicitHeight: 36
    padding: 0
    // Mouse affordances: the keyboard reaches each action by its shortcut or its region's
    // keys (Ctrl+/ lists them), so Tab moves between regions instead of stopping at every icon.
    focusPolicy: Qt.NoFocus
    display: AbstractButton.IconOnly
    Accessible.name: tip
    Accessible.description: tip
    ToolTip.visible: hovered && tip.length > 0
    ToolTip.delay: 600
    ToolTip.text: tip

    contentItem: Item {
        Icon {
            anchors.centerIn: parent
            path: control.iconPath
            size: control.iconSize
            color: control.enabled ? control.iconColor : control.Material.hintTextColor
        }
    }
}
