// Renders the app icon's PNG sizes from the same geometry as icons/falcon-mamba-chat.svg,
// with QPainter (the build machines have no SVG rasterizer). Run by hand when the icon changes:
//   cmake --build BUILD --target render_app_icon && BUILD/resources/render_app_icon resources/icons

#include <QDir>
#include <QGuiApplication>
#include <QImage>
#include <QLinearGradient>
#include <QPainter>
#include <QPainterPath>

#include <cstdio>

namespace {

QImage renderIcon(int size) {
    QImage image(size, size, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::transparent);
    QPainter p(&image);
    p.setRenderHint(QPainter::Antialiasing);
    p.scale(size / 256.0, size / 256.0);  // the SVG's 256x256 grid

    QLinearGradient background(8, 8, 248, 248);
    background.setColorAt(0, QColor(0x5b, 0x7c, 0xfa));
    background.setColorAt(1, QColor(0x8b, 0x5c, 0xf6));
    p.setPen(Qt::NoPen);
    p.setBrush(background);
    p.drawRoundedRect(QRectF(8, 8, 240, 240), 56, 56);

    // The speech bubble: a rounded rectangle with a tail at the bottom left.
    QPainterPath bubble;
    bubble.addRoundedRect(QRectF(60, 60, 136, 108), 24, 24);
    QPainterPath tail;
    tail.moveTo(84, 160);
    tail.lineTo(84, 198);
    tail.lineTo(128, 160);
    tail.closeSubpath();
    p.setBrush(QColor(255, 255, 255, 242));
    p.drawPath(bubble.united(tail));

    // The wave: a state that flows on, whatever the length.
    QPainterPath wave;
    wave.moveTo(84, 116);
    wave.cubicTo(98, 94, 112, 94, 126, 116);
    wave.cubicTo(140, 138, 154, 138, 168, 116);
    p.setBrush(Qt::NoBrush);
    p.setPen(QPen(QColor(0x6d, 0x6c, 0xf7), 12, Qt::SolidLine, Qt::RoundCap));
    p.drawPath(wave);
    return image;
}

}  // namespace

int main(int argc, char* argv[]) {
    QGuiApplication app(argc, argv);
    const QDir out(argc > 1 ? QString::fromLocal8Bit(argv[1]) : QStringLiteral("."));
    for (int size : {16, 32, 48, 64, 128, 256, 512}) {
        const QString path = out.filePath(QStringLiteral("falcon-mamba-chat-%1.png").arg(size));
        if (!renderIcon(size).save(path)) {
            std::fprintf(stderr, "cannot write %s\n", qPrintable(path));
            return 1;
        }
        std::printf("%s\n", qPrintable(path));
    }
    return 0;
}
