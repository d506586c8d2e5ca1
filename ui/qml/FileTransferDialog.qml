import QtQuick
import QtQuick.Controls
import QtQuick.Dialogs
import QtQuick.Layouts
import FalconMamba.App

// Export (saving) or import (opening) with a path the user can type: an absolute path, `~/…`,
// or a name relative to the folder the dialog starts in (the last one used, else Documents).
// Browse… opens the file dialog instead; Enter in the path field accepts. The exporter checks
// the path on its own thread and reports what went wrong, so nothing here touches the disk.
Dialog {
    id: dialog
    required property AppController app
    property bool saving: true
    // Saving: the formats offered (names from the exporter) and the one chosen.
    property var formats: []
    property string format: formats.length > 0 ? formats[0] : ""
    property alias path: pathField.text
    property string acceptText: saving ? qsTr("Export") : qsTr("Import")
    // The path field's text read as a file, and the format chosen.
    signal chosen(url file, string format)

    function openWith(fileName) {
        const folder = app.ui.transferFolder
        pathField.text = fileName.length > 0 ? folder + "/" + fileName : folder + "/"
        open()
        pathField.forceActiveFocus()
        // The name (without its suffix) selected, so typing replaces it; the folder stays.
        const dot = pathField.text.lastIndexOf(".")
        const start = pathField.text.lastIndexOf("/") + 1
        pathField.select(start, dot > start ? dot : pathField.text.length)
    }
    // The path's suffix follows the format when it was the old format's suffix.
    function chooseFormat(newFormat) {
        const oldSuffix = "." + format
        if (pathField.text.endsWith(oldSuffix))
            pathField.text = pathField.text.slice(0, -oldSuffix.length) + "." + newFormat
        format = newFormat
    }

    modal: true
    anchors.centerIn: Overlay.overlay
    width: Math.min(560, (Overlay.overlay ? Overlay.overlay.width : 560) - 48)
    focus: true

    onAccepted: {
        const file = app.ui.typedFileUrl(pathField.text)
        if (file.toString().length === 0)
            return
        // A typed suffix that names a format chooses it: "notes.html" is written as HTML.
        const typedSuffix = pathField.text.trim().replace(/^.*\./, "")
        if (saving && typedSuffix !== format && formats.indexOf(typedSuffix) >= 0)
            format = typedSuffix
        app.ui.rememberTransferFile(file)
        dialog.chosen(file, saving ? format : "")
    }

    footer: DialogButtonBox {
        Button {
            text: dialog.acceptText
            enabled: pathField.text.trim().length > 0
            DialogButtonBox.buttonRole: DialogButtonBox.AcceptRole
            Accessible.name: text
        }
        Button {
            text: qsTr("Cancel")
            DialogButtonBox.buttonRole: DialogButtonBox.RejectRole
            Accessible.name: text
        }
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 10

        Label {
            Layout.fillWidth: true
            visible: dialog.saving
            text: qsTr("Format")
        }
        ComboBox {
            id: formatBox
            objectName: "transferFormat"
            Layout.fillWidth: true
            visible: dialog.saving
            model: dialog.formats.map(f => dialog.app.exporter.nameFilters(f)[0])
            currentIndex: Math.max(0, dialog.formats.indexOf(dialog.format))
            onActivated: index => dialog.chooseFormat(dialog.formats[index])
            Accessible.name: qsTr("Export format")
        }
        Label {
            Layout.fillWidth: true
            text: dialog.saving ? qsTr("Save as") : qsTr("File to import (a JSON export)")
        }
        RowLayout {
            Layout.fillWidth: true
            TextField {
                id: pathField
                objectName: "transferPath"
                Layout.fillWidth: true
                selectByMouse: true
                placeholderText: qsTr("A path, ~/…, or a name in %1").arg(dialog.app.ui.transferFolder)
                Accessible.name: dialog.saving ? qsTr("Path of the file to write") : qsTr("Path of the file to import")
                onAccepted: if (text.trim().length > 0) dialog.accept()
            }
            Button {
                text: qsTr("Browse…")
                Accessible.name: qsTr("Choose the file in a file dialog")
                onClicked: {
                    const file = dialog.app.ui.typedFileUrl(pathField.text)
                    if (file.toString().length > 0) {
                        browser.currentFolder = dialog.app.ui.typedFileUrl(file.toString().replace(/\/[^\/]*$/, ""))
                        browser.selectedFile = file
                    }
                    browser.open()
                }
            }
        }
    }

    FileDialog {
        id: browser
        title: dialog.title
        fileMode: dialog.saving ? FileDialog.SaveFile : FileDialog.OpenFile
        acceptLabel: dialog.acceptText
        currentFolder: dialog.app.ui.typedFileUrl(dialog.app.ui.transferFolder)
        nameFilters: dialog.saving ? dialog.app.exporter.nameFilters(dialog.format)
                                   : dialog.app.exporter.nameFilters("json")
        onAccepted: {
            pathField.text = dialog.app.ui.typedPath(selectedFile)
            pathField.forceActiveFocus()
        }
    }
}
