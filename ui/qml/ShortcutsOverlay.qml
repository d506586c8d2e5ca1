import QtQuick
import QtQuick.Controls
import QtQuick.Controls.Material

// Every keyboard shortcut of the window (Ctrl+/ or F1 opens it, Esc closes it).
Popup {
    id: root
    property var shortcuts: []
    property color subtleText

    parent: Overlay.overlay
    anchors.centerIn: parent
    width: Math.min(560, (parent ? parent.width : 560) - 48)
    height: Math.min(column.implicitHeight + topPadding + bottomPadding, (parent ? parent.height : 600) - 48)
    modal: true
    focus: true
    padding: 20
    closePolicy: Popup.CloseOnEscape | Popup.CloseOnPressOutside

    Flickable {
        anchors.fill: parent
        Accessible.role: Accessible.Dialog
        Accessible.name: qsTr("Keyboard shortcuts")
        contentHeight: column.implicitHeight
        clip: true
        boundsBehavior: Flickable.StopAtBounds
        ScrollBar.vertical: ScrollBar { policy: ScrollBar.AsNeeded }

        Column {
            id: column
            width: parent.width
            spacing: 6
            Label {
                text: qsTr("Keyboard shortcuts")
                font.pixelSize: 18
                font.weight: Font.DemiBold
                bottomPadding: 8
                Accessible.role: Accessible.Heading
                Accessible.name: text
            }
            Repeater {
                model: root.shortcuts
                delegate: Item {
                    required property var modelData
                    width: column.width
                    height: Math.max(keysLabel.height, actionLabel.height)
                    Accessible.role: Accessible.StaticText
                    Accessible.name: modelData.keys + ": " + modelData.action
                    Label {
                        id: keysLabel
                        width: Math.round(column.width * 0.38)
                        text: modelData.keys
                        font.family: "monospace"
                        wrapMode: Text.Wrap
                    }
                    Label {
                        id: actionLabel
                        x: keysLabel.width + 12
                        width: column.width - x
                        text: modelData.action
                        color: root.subtleText
                        wrapMode: Text.Wrap
                    }
                }
            }
        }
    }
}
