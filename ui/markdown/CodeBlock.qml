import QtQuick
import QtQuick.Controls
import QtQuick.Controls.Material
import FalconMamba.App

// A fenced code block: monospace, boxed, with the language and a copy button on top.
// Positioners and explicit sizes only (it lives inside recycled ListView delegates; see
// MessageDelegate.qml for why no Qt Quick Layouts).
Rectangle {
    id: root
    property string code
    property string language
    required property AppController app
    property color dividerColor
    property color subtleText
    property real textScale: 1
    readonly property bool dark: Material.theme === Material.Dark

    implicitHeight: header.height + 1 + codeText.height + 24
    radius: 10
    color: dark ? "#111216" : "#f6f8fa"
    border.color: dividerColor
    Accessible.role: Accessible.Grouping
    Accessible.name: qsTr("Code block %1").arg(language)

    Item {
        id: header
        width: root.width
        height: 32
        Label {
            x: 12
            width: parent.width - x - copyButton.width - 8
            anchors.verticalCenter: parent.verticalCenter
            text: root.language.length > 0 ? root.language : qsTr("code")
            elide: Text.ElideRight
            font.pixelSize: 12
            color: root.subtleText
        }
        Button {
            id: copyButton
            property bool copied: false
            anchors.right: parent.right
            anchors.rightMargin: 4
            anchors.verticalCenter: parent.verticalCenter
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
    Rectangle {
        y: header.height
        width: root.width
        height: 1
        color: root.dividerColor
    }
    TextEdit {
        id: codeText
        x: 12
        y: header.height + 1 + 12
        width: root.width - 24
        text: root.code
        textFormat: TextEdit.PlainText
        readOnly: true
        selectByMouse: true
        wrapMode: TextEdit.WrapAtWordBoundaryOrAnywhere
        font.family: "monospace"
        font.pixelSize: Math.round(13 * root.textScale)
        color: root.Material.foreground
        selectionColor: root.Material.accent
        Accessible.role: Accessible.StaticText
        Accessible.name: root.code
    }
}
