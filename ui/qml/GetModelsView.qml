import QtQuick
import QtQuick.Controls
import QtQuick.Controls.Material
import QtQuick.Layouts
import FalconMamba.App
import FalconMamba.Ui.Controls

// "Get models": the Falcon Mamba checkpoints (or any repository id) downloaded from the
// Hugging Face Hub into its cache, where the models page finds them. The DownloadController
// runs the transfers on its own thread; this view only shows its plan and progress.
ColumnLayout {
    id: root
    property color subtleText: "gray"
    property color dividerColor: "lightgray"
    property color cardColor: "transparent"
    // The hub cache the models page scans; empty: the environment's.
    property string cachePath
    readonly property DownloadController controller: downloads
    // A download finished: the cache scan should run again; `path` can be loaded.
    signal downloaded(string path)
    signal loadRequested(string path)

    spacing: 12

    DownloadController {
        id: downloads
        Component.onCompleted: if (root.cachePath.length > 0) cachePath = root.cachePath
        onDownloadFinished: (path) => root.downloaded(path)
    }

    onCachePathChanged: if (cachePath.length > 0) downloads.cachePath = cachePath
    readonly property bool hasPlan: downloads.files.length > 0
    readonly property bool active: downloads.state === "downloading" || downloads.state === "paused"

    // Quitting during a download asks first; the download then stops and is offered again
    // (the resume banner) the next time the view starts.
    property bool quitConfirmed: false
    Connections {
        target: root.Window.window
        function onClosing(close) {
            if (!root.active || root.quitConfirmed) return
            close.accepted = false
            stopDialog.open()
        }
    }
    Dialog {
        id: stopDialog
        objectName: "getModelsStopDialog"
        parent: Overlay.overlay
        anchors.centerIn: parent
        width: Math.min(460, parent ? parent.width - 48 : 460)
        modal: true
        title: qsTr("Stop the download?")
        Label {
            width: stopDialog.availableWidth
            wrapMode: Text.Wrap
            text: qsTr("%1 is still downloading. If you quit now it stops, and resumes where it left off the next time you open Get models.")
                  .arg(downloads.repoId)
        }
        footer: DialogButtonBox {
            Button { text: qsTr("Keep downloading"); DialogButtonBox.buttonRole: DialogButtonBox.RejectRole }
            Button { text: qsTr("Stop and quit"); DialogButtonBox.buttonRole: DialogButtonBox.AcceptRole }
        }
        onAccepted: {
            downloads.pause()
            root.quitConfirmed = true
            root.Window.window.close()
        }
    }

    function choose(repoId) {
        repoField.text = repoId
        downloads.inspect(repoId, revisionField.text.length > 0 ? revisionField.text : "main")
    }

    Label {
        text: qsTr("Get models")
        font.pixelSize: 16
        font.weight: Font.DemiBold
        Accessible.role: Accessible.Heading
        Accessible.name: text
    }
    Label {
        Layout.fillWidth: true
        wrapMode: Text.Wrap
        color: root.subtleText
        text: qsTr("Downloads go to the Hugging Face cache (%1), shared with transformers and huggingface-cli.")
              .arg(downloads.cachePath)
    }

    Banner {
        Layout.fillWidth: true
        objectName: "getModelsResumeBanner"
        error: false
        text: downloads.interrupted.length > 0 && !root.active && downloads.state !== "inspecting"
              ? qsTr("A download of %1 was interrupted.").arg(downloads.interrupted[0]) : ""
        actionText: qsTr("Resume")
        onAction: downloads.start(downloads.interrupted[0])
    }

    Repeater {
        model: downloads.catalog
        delegate: Rectangle {
            id: entry
            required property var modelData
            Layout.fillWidth: true
            implicitHeight: entryColumn.implicitHeight + 20
            radius: 10
            color: downloads.repoId === modelData.repoId ? (Material.theme === Material.Dark ? "#262830" : "#f1f3f6")
                                                         : "transparent"
            border.color: root.dividerColor
            Accessible.role: Accessible.ListItem
            Accessible.name: modelData.repoId

            RowLayout {
                anchors.fill: parent
                anchors.leftMargin: 14
                anchors.rightMargin: 8
                ColumnLayout {
                    id: entryColumn
                    Layout.fillWidth: true
                    spacing: 0
                    Label { text: entry.modelData.repoId; font.weight: Font.DemiBold }
                    Label {
                        Layout.fillWidth: true
                        text: entry.modelData.size + " · " + entry.modelData.format
                        font.pixelSize: 12
                        color: root.subtleText
                    }
                    Label {
                        Layout.fillWidth: true
                        text: entry.modelData.purpose
                        wrapMode: Text.Wrap
                        font.pixelSize: 12
                        color: root.subtleText
                    }
                }
                Button {
                    text: qsTr("Choose")
                    flat: true
                    enabled: !root.active && !downloads.busy
                    Accessible.name: qsTr("Choose %1").arg(entry.modelData.repoId)
                    onClicked: root.choose(entry.modelData.repoId)
                }
            }
        }
    }

    RowLayout {
        Layout.fillWidth: true
        TextField {
            id: repoField
            objectName: "getModelsRepoField"
            Layout.fillWidth: true
            placeholderText: qsTr("Any repository, as organisation/name")
            Accessible.name: qsTr("Repository id")
            enabled: !root.active
            onAccepted: root.choose(text.trim())
        }
        TextField {
            id: revisionField
            Layout.preferredWidth: 110
            placeholderText: "main"
            Accessible.name: qsTr("Revision")
            enabled: !root.active
        }
        Button {
            objectName: "getModelsCheck"
            text: qsTr("Check")
            enabled: repoField.text.trim().length > 0 && !root.active && !downloads.busy
            Accessible.name: qsTr("Check the repository's files and size")
            onClicked: root.choose(repoField.text.trim())
        }
    }

    BusyIndicator {
        running: downloads.state === "inspecting"
        visible: running
        implicitWidth: 28
        implicitHeight: 28
    }

    Rectangle {
        Layout.fillWidth: true
        visible: root.hasPlan
        implicitHeight: planColumn.implicitHeight + 24
        radius: 12
        color: root.cardColor
        border.color: root.dividerColor

        ColumnLayout {
            id: planColumn
            anchors.fill: parent
            anchors.margins: 12
            spacing: 6
            Label { text: downloads.repoId + " @ " + downloads.revision; font.weight: Font.DemiBold }
            Repeater {
                model: downloads.files
                delegate: RowLayout {
                    required property var modelData
                    Layout.fillWidth: true
                    Label { Layout.fillWidth: true; text: modelData.path; elide: Text.ElideMiddle }
                    Label {
                        text: modelData.complete ? qsTr("%1 · in the cache").arg(modelData.sizeText) : modelData.sizeText
                        color: root.subtleText
                    }
                }
            }
            Label {
                objectName: "getModelsSpace"
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                text: downloads.spaceText
                color: downloads.enoughSpace ? root.subtleText : "#ef4444"
            }
            ProgressBar {
                objectName: "getModelsProgress"
                Layout.fillWidth: true
                visible: root.active || downloads.state === "finished"
                value: downloads.fraction
            }
            Label {
                objectName: "getModelsProgressText"
                visible: root.active
                text: downloads.progressText
                color: root.subtleText
            }
            RowLayout {
                Button {
                    objectName: "getModelsDownload"
                    visible: downloads.state === "ready"
                    enabled: downloads.enoughSpace
                    highlighted: true
                    text: downloads.neededBytes > 0 ? qsTr("Download %1").arg(downloads.formatBytes(downloads.neededBytes))
                                                    : qsTr("Link from the cache")
                    Accessible.name: qsTr("Download %1").arg(downloads.repoId)
                    onClicked: downloads.start()
                }
                Button {
                    objectName: "getModelsPause"
                    visible: downloads.state === "downloading"
                    text: qsTr("Pause")
                    Accessible.name: text
                    onClicked: downloads.pause()
                }
                Button {
                    objectName: "getModelsResume"
                    visible: downloads.state === "paused" || downloads.state === "failed"
                    text: qsTr("Resume")
                    Accessible.name: qsTr("Resume the download")
                    onClicked: downloads.resume()
                }
                Button {
                    objectName: "getModelsCancel"
                    visible: root.active
                    flat: true
                    text: qsTr("Cancel")
                    Accessible.name: qsTr("Cancel the download")
                    onClicked: downloads.cancel()
                }
                Button {
                    visible: downloads.state === "finished"
                    highlighted: true
                    text: qsTr("Load")
                    Accessible.name: qsTr("Load %1").arg(downloads.repoId)
                    onClicked: root.loadRequested(downloads.snapshotPath)
                }
            }
        }
    }

    Label {
        objectName: "getModelsMessage"
        Layout.fillWidth: true
        visible: text.length > 0
        wrapMode: Text.Wrap
        text: downloads.message
        color: downloads.state === "failed" ? "#ef4444" : root.subtleText
    }
}
