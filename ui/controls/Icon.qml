import QtQuick
import QtQuick.Shapes
import QtQuick.Window

// One icon from Icons.js, stroked in `color`, scaled from its 24x24 grid to `size`.
// The layer (multisampled) is on this item, at the final size, so edges stay smooth. At 150%
// and above the pixels are small enough without it, and Qt 6.4 drew the multisampled layer
// empty there (every icon vanished at QT_SCALE_FACTOR=2).
Item {
    id: root
    property string path
    property color color: "black"
    property real size: 18
    property real strokeWidth: 2

    implicitWidth: size
    implicitHeight: size
    layer.enabled: !Window.window || Window.window.devicePixelRatio < 1.5
    layer.samples: 4

    Shape {
        width: 24
        height: 24
        transformOrigin: Item.TopLeft
        scale: root.size / 24
        ShapePath {
            strokeColor: root.color
            strokeWidth: root.strokeWidth
            fillColor: "transparent"
            capStyle: ShapePath.RoundCap
            joinStyle: ShapePath.RoundJoin
            PathSvg { path: root.path }
        }
    }
}
