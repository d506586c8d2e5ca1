import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Dialog {
    id: dialog
    property var conversationId: 0
    property alias newTitle: field.text

    function openFor(id, title) {
        conversationId = id
        field.text = title
        open()
        field.forceActiveFocus()
        field.selectAll()
    }

    title: qsTr("Rename chat")
    modal: true
    anchors.centerIn: Overlay.overlay
    width: 380
    standardButtons: Dialog.Ok | Dialog.Cancel

    TextField {
        id: field
        width: parent.width
        selectByMouse: true
        Accessible.name: qsTr("New title")
        onAccepted: dialog.accept()
    }
}
