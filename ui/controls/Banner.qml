import QtQuick
import QtQuick.Controls
import QtQuick.Controls.Material
import QtQuick.Layouts
import "Icons.js" as Icons

// A one-line message across the top of a view: an error (red) or a note, with optional
// action and a close button.
Rectangle {
    id: root
    property string text
    property bool error: true
    property string actionText
    signal action()
    signal dismissed()

    visible: text.length > 0
    implicitHeight: visible ? row.implicitHeight + 16 : 0
    radius: 8
    color: error ? (Material.theme === Material.Dark ? "#4a1f24" : "#fde7e9")
                 : (Material.theme === Material.Dark ? "#1f3347" : "#e6f0fb")
    border.color: error ? (Material.theme === Material.Dark ? "#7a2e35" : "#f4b6bc")
                        : (Material.theme === Material.Dark ? "#2f4f6e" : "#b8d4f2")
    Accessible.role: Accessible.AlertMessage
    Accessible.name: text

    RowLayout {
        id: row
        anchors.fill: parent
        anchors.leftMargin: 12
        anchors.rightMargin: 4
        spacing: 8
        Label {
            Layout.fillWidth: true
            text: root.text
            wrapMode: Text.Wrap
            color: root.error ? (Material.theme === Material.Dark ? "#ffb4ab" : "#9b1c24") : Material.foreground
        }
        Button {
            visible: root.actionText.length > 0
            text: root.actionText
            flat: true
            Accessible.name: root.actionText
            onClicked: root.action()
        }
        IconButton {
            iconPath: Icons.close
            iconSize: 14
            tip: qsTr("Dismiss")
            onClicked: root.dismissed()
        }
    }
}
