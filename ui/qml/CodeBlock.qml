import QtQuick
import QtQuick.Controls
import QtQuick.Controls.Material
import QtQuick.Layouts
import FalconMamba.App
import "Icons.js" as Icons

// A fenced code block: monospace, boxed, with the language and a copy button on top.
Rectangle {
    id: root
    property string code
    property string language
    required property AppController app
    property color dividerColor
    property color subtleText
    readonly property bool dark: Material.theme === Material.Dark

    implicitHeight: layout.implicitHeight
    radius: 10
    color: dark ? "#111216" : "#f6f8fa"
    border.color: dividerColor
    Accessible.role: Accessible.Grouping
    Accessible.name: qsTr("Code block %1").arg(language)

    ColumnLayout {
        id: layout
        width: parent.width
        spacing: 0
        RowLayout {
            Layout.fillWidth: true
            Layout.leftMargin: 12
            Layout.rightMargin: 4
            implicitHeight: 32
            Label {
                Layout.fillWidth: true
                text: root.language.length > 0 ? root.language : qsTr("code")
                font.pixelSize: 12
                color: root.subtleText
            }
            Button {
                id: copyButton
                property bool copied: false
                flat: true
                text: copied ? qsTr("Copied") : qsTr("Copy")
                font.pixelSize: 12
                implicitHeight: 30
                Accessible.name: qsTr("Copy code")
                onClicked: {
                    root.app.chat.copyText(root.code)
                    copied = true
                    copiedTimer.restart()
                }
                Timer {
                    id: copiedTimer
                    interval: 1500
                    onTriggered: copyButton.copied = false
                }
            }
        }
        Rectangle { Layout.fillWidth: true; implicitHeight: 1; color: root.dividerColor }
        TextEdit {
            Layout.fillWidth: true
            Layout.margins: 12
            text: root.code
            textFormat: TextEdit.PlainText
            readOnly: true
            selectByMouse: true
            wrapMode: TextEdit.WrapAtWordBoundaryOrAnywhere
            font.family: "monospace"
            font.pixelSize: 13
            color: root.Material.foreground
            selectionColor: root.Material.accent
            Accessible.role: Accessible.StaticText
            Accessible.name: root.code
        }
    }
}
