#include "app/export/pdf/pdf_fonts.h"

#include "app/export/pdf/pdf_file.h"
#include "app/export/pdf/truetype_subset.h"

#include <QFont>
#include <QPainterPath>

#include <algorithm>
#include <cmath>

namespace fm::pdf {
namespace {

constexpr size_t kMaxCodes = 0xFFFF;

quint16 u16(const QByteArray& table, qsizetype at) {
    if (at < 0 || at + 2 > table.size()) return 0;
    return quint16((quint8(table[at]) << 8) | quint8(table[at + 1]));
}

qint16 s16(const QByteArray& table, qsizetype at) {
    return qint16(u16(table, at));
}

// Characters a font's character map alone sets correctly: no marks to place, no joining, no
// reordering, no right-to-left, no invisible controls. Everything else goes through Qt's shaper.
bool settableWithoutShaping(char16_t ch) {
    if (ch < 0x20 || (ch >= 0x7F && ch < 0xA0) || ch == 0xAD) return false;
    if (QChar::isMark(ch)) return false;
    if (ch < 0x0590) return true;
    if (ch < 0x1E00) return false;  // Hebrew to Mongolian: right-to-left and complex scripts
    if (ch >= 0x2000 && ch < 0x2070) {
        return !((ch >= 0x200B && ch <= 0x200F) || (ch >= 0x2028 && ch <= 0x202E) || ch >= 0x2060);
    }
    if (ch < 0x2E80) return true;  // symbols, arrows, maths, boxes, Glagolitic, Coptic
    if (ch < 0xA000) return true;  // CJK (broken anywhere when a line is full)
    if (ch >= 0xA640 && ch < 0xA6A0) return true;
    if (ch >= 0xA720 && ch < 0xA800) return true;
    if (ch >= 0xAC00 && ch < 0xD7A4) return true;  // precomposed Hangul
    if (ch >= 0xF900 && ch < 0xFB07) return true;
    if (ch >= 0xFE30 && ch < 0xFE50) return true;
    if (ch >= 0xFF01 && ch < 0xFFEF) return true;
    return false;
}

// Six capitals that tell subsets apart, then a name of PostScript characters.
QByteArray baseFontName(const QRawFont& font, int index) {
    QByteArray tag(6, 'A');
    for (int i = 5, n = index; i >= 0; --i, n /= 26) tag[i] = char('A' + n % 26);
    QByteArray name;
    for (QChar ch : font.familyName() + QLatin1Char('-') + font.styleName()) {
        if ((ch >= QLatin1Char('A') && ch <= QLatin1Char('Z')) || (ch >= QLatin1Char('a') && ch <= QLatin1Char('z')) ||
            (ch >= QLatin1Char('0') && ch <= QLatin1Char('9')) || ch == QLatin1Char('-')) {
            name += char(ch.unicode());
        }
    }
    return tag + '+' + (name.isEmpty() ? QByteArray("Font") : name.left(60));
}

QByteArray hex4(unsigned value) {
    static const char kHex[] = "0123456789ABCDEF";
    QByteArray out(4, '0');
    for (int i = 3; i >= 0; --i, value >>= 4) out[i] = kHex[value & 15];
    return out;
}

QByteArray hex2(unsigned value) {
    return hex4(value).right(2);
}

// `oneByte`: the codes of a Type 3 font (one byte each) rather than a CIDFont's two.
QByteArray toUnicodeCMap(const std::vector<std::pair<quint16, QString>>& entries, bool oneByte) {
    QByteArray cmap =
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n";
    cmap += oneByte ? "<00> <FF>" : "<0000> <FFFF>";
    cmap += "\nendcodespacerange\n";
    for (size_t from = 0; from < entries.size(); from += 100) {
        const size_t to = std::min(entries.size(), from + 100);
        cmap += QByteArray::number(int(to - from)) + " beginbfchar\n";
        for (size_t i = from; i < to; ++i) {
            cmap += '<' + (oneByte ? hex2(entries[i].first) : hex4(entries[i].first)) + "> <";
            for (QChar ch : entries[i].second) cmap += hex4(ch.unicode());
            cmap += ">\n";
        }
        cmap += "endbfchar\n";
    }
    cmap += "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";
    return cmap;
}

}  // namespace

FontFace::FontFace(const QRawFont& font, int index, int object, bool outlines)
    : font_(font),
      index_(index),
      object_(object),
      outlines_(outlines),
      unitsPerEm_(float(std::max<qreal>(1, font.unitsPerEm()))) {
    font_.setPixelSize(unitsPerEm_);
    ascent_ = float(font_.ascent()) / unitsPerEm_;
    descent_ = float(font_.descent()) / unitsPerEm_;
    // Advances straight from hmtx: the same integers the /W array gives the reader, so the
    // lines laid out here are the lines it draws.
    const QByteArray hhea = font_.fontTable("hhea");
    const QByteArray hmtx = font_.fontTable("hmtx");
    const QByteArray maxp = font_.fontTable("maxp");
    const int glyphs = u16(maxp, 4);
    const int metrics = std::min<int>(u16(hhea, 34), int(hmtx.size() / 4));
    if (metrics > 0) {
        advances_.resize(size_t(std::max(glyphs, metrics)));
        for (int g = 0; g < int(advances_.size()); ++g) advances_[size_t(g)] = u16(hmtx, 4 * std::min(g, metrics - 1));
    }
    bmp_.assign(0x10000, Glyph{0, -1.0f});
    codes_.push_back({0, {}});
}

const Glyph& FontFace::simpleGlyph(char16_t ch) {
    Glyph& g = bmp_[ch];
    if (g.advance >= 0) return g;
    g.advance = 0;
    if (!settableWithoutShaping(ch)) return g;
    const QChar c(ch);
    quint32 glyph = 0;
    int count = 1;
    if (!font_.glyphIndexesForChars(&c, 1, &glyph, &count) || count != 1 || glyph == 0) return g;
    g.code = newCode(glyph, QString(QChar(ch)));
    g.advance = g.code == 0 ? 0 : advanceOf(glyph);
    return g;
}

quint16 FontFace::codeForShapedGlyph(quint32 glyph, const QString& text) {
    const std::pair<quint32, QString> key{glyph, text};
    const auto found = shaped_.constFind(key);
    if (found != shaped_.cend()) return *found;
    const quint16 code = newCode(glyph, text);
    shaped_.insert(key, code);
    return code;
}

quint16 FontFace::newCode(quint32 glyph, const QString& text) {
    if (codes_.size() >= kMaxCodes) return 0;  // every code taken: .notdef from here on
    codes_.push_back({glyph, text});
    return quint16(codes_.size() - 1);
}

float FontFace::advanceOf(quint32 glyph) const {
    if (glyph < advances_.size()) return float(advances_[glyph]) / unitsPerEm_;
    const QList<QPointF> advance = font_.advancesForGlyphIndexes(QList<quint32>{glyph}, QRawFont::UseDesignMetrics);
    return advance.isEmpty() ? 0.0f : float(advance.front().x()) / unitsPerEm_;
}

QByteArray FontFace::resourceName(quint16 code) const {
    QByteArray name = "/F" + QByteArray::number(index_);
    if (outlines_) name += '-' + QByteArray::number(code / 256);
    return name;
}

std::vector<std::pair<QByteArray, int>> FontFace::write(PdfFile& file) const {
    if (outlines_) return writeType3(file);
    const int descendant = file.reserve();
    const int descriptor = file.reserve();
    const int toUnicode = file.reserve();
    const int cidToGid = file.reserve();
    const QByteArray name = '/' + baseFontName(font_, index_);

    std::vector<quint32> used;
    std::vector<std::pair<quint16, QString>> unicode;
    QByteArray gidMap;
    gidMap.reserve(qsizetype(codes_.size() * 2));
    QByteArray widths = "[1[";
    for (size_t code = 0; code < codes_.size(); ++code) {
        const Code& c = codes_[code];
        used.push_back(c.glyph);
        gidMap += char(c.glyph >> 8);
        gidMap += char(c.glyph & 0xFF);
        if (code == 0) continue;
        if (!c.text.isEmpty()) unicode.emplace_back(quint16(code), c.text);
        widths += QByteArray::number(std::lround(advanceOf(c.glyph) * 1000)) + ' ';
    }
    widths += "]]";
    std::sort(used.begin(), used.end());
    used.erase(std::unique(used.begin(), used.end()), used.end());

    file.beginObject(object_);
    file << "<</Type/Font/Subtype/Type0/BaseFont" << name << "/Encoding/Identity-H/DescendantFonts[" << descendant
         << " 0 R]/ToUnicode " << toUnicode << " 0 R>>";
    file.endObject();

    file.beginObject(descendant);
    file << "<</Type/Font/Subtype/CIDFontType2/BaseFont" << name
         << "/CIDSystemInfo<</Registry(Adobe)/Ordering(Identity)/Supplement 0>>/FontDescriptor " << descriptor
         << " 0 R/DW 0/W" << widths << "/CIDToGIDMap " << cidToGid << " 0 R>>";
    file.endObject();

    const QByteArray head = font_.fontTable("head");
    const QByteArray post = font_.fontTable("post");
    const auto scaled = [&](qreal units) {
        QByteArray out;
        appendNumber(out, units * 1000 / unitsPerEm_);
        return out;
    };
    Result<QByteArray> subset = subsetTrueType(font_, used);
    const int fontFile = subset ? file.reserve() : 0;
    QByteArray italicAngle;
    appendNumber(italicAngle, post.size() >= 8 ? double(qint32((u16(post, 4) << 16) | u16(post, 6))) / 65536.0 : 0.0);
    file.beginObject(descriptor);
    file << "<</Type/FontDescriptor/FontName" << name << "/Flags 4/FontBBox[" << scaled(s16(head, 36)) << ' '
         << scaled(s16(head, 38)) << ' ' << scaled(s16(head, 40)) << ' ' << scaled(s16(head, 42)) << "]/ItalicAngle "
         << italicAngle << "/Ascent " << scaled(font_.ascent()) << "/Descent " << scaled(-font_.descent())
         << "/CapHeight " << scaled(font_.capHeight()) << "/StemV 80";
    if (fontFile != 0) file << "/FontFile2 " << fontFile << " 0 R";
    file << ">>";
    file.endObject();
    if (fontFile != 0) file.writeStream(fontFile, "/Length1 " + QByteArray::number(subset->size()), *subset);
    file.writeStream(toUnicode, {}, toUnicodeCMap(unicode, false));
    file.writeStream(cidToGid, {}, gidMap);
    return {{"F" + QByteArray::number(index_), object_}};
}

std::vector<std::pair<QByteArray, int>> FontFace::writeType3(PdfFile& file) const {
    // font_ is at a pixel size of unitsPerEm: outlines come in font units, y pointing down.
    const double scale = 1000.0 / unitsPerEm_;
    const auto point = [&](QByteArray& out, qreal x, qreal y) {
        appendNumber(out, x * scale);
        out += ' ';
        appendNumber(out, -y * scale);
        out += ' ';
    };
    std::vector<std::pair<QByteArray, int>> fonts;
    for (size_t first = 0; first < codes_.size(); first += 256) {
        const size_t last = std::min(codes_.size(), first + 256);
        const int font = file.reserve();
        const int toUnicode = file.reserve();
        QByteArray procs = "<<", differences = "[0", widths = "[";
        QRectF box;
        std::vector<std::pair<quint16, QString>> unicode;
        for (size_t code = first; code < last; ++code) {
            const Code& c = codes_[code];
            const QPainterPath path = font_.pathForGlyph(c.glyph);
            const QRectF r = path.boundingRect();
            box |= r;
            const long width = std::lround(advanceOf(c.glyph) * 1000);
            // d1: the glyph is a shape only, filled with the text's colour.
            QByteArray proc = QByteArray::number(qlonglong(width)) + " 0 ";
            point(proc, r.left(), r.bottom());
            point(proc, r.right(), r.top());
            proc += "d1\n";
            for (int e = 0; e < path.elementCount(); ++e) {
                const QPainterPath::Element el = path.elementAt(e);
                if (el.isMoveTo()) {
                    point(proc, el.x, el.y);
                    proc += "m\n";
                } else if (el.isLineTo()) {
                    point(proc, el.x, el.y);
                    proc += "l\n";
                } else if (el.isCurveTo() && e + 2 < path.elementCount()) {
                    for (int k = 0; k < 3; ++k) point(proc, path.elementAt(e + k).x, path.elementAt(e + k).y);
                    proc += "c\n";
                    e += 2;
                }
            }
            if (!path.isEmpty()) proc += "f\n";
            const int procObject = file.reserve();
            file.writeStream(procObject, {}, proc);
            const QByteArray glyphName = "/g" + QByteArray::number(qulonglong(code - first));
            procs += glyphName + ' ' + QByteArray::number(procObject) + " 0 R";
            differences += glyphName;
            widths += QByteArray::number(qlonglong(width)) + ' ';
            if (!c.text.isEmpty()) unicode.emplace_back(quint16(code - first), c.text);
        }
        QByteArray bbox = "[";
        point(bbox, box.left(), box.bottom());
        point(bbox, box.right(), box.top());
        bbox += ']';
        file.beginObject(font);
        file << "<</Type/Font/Subtype/Type3/FontBBox" << bbox << "/FontMatrix[0.001 0 0 0.001 0 0]/CharProcs" << procs
             << ">>/Encoding<</Type/Encoding/Differences" << differences << "]>>/FirstChar 0/LastChar "
             << int(last - first - 1) << "/Widths" << widths << "]/Resources<<>>/ToUnicode " << toUnicode << " 0 R>>";
        file.endObject();
        file.writeStream(toUnicode, {}, toUnicodeCMap(unicode, true));
        fonts.push_back({"F" + QByteArray::number(index_) + '-' + QByteArray::number(qulonglong(first / 256)), font});
    }
    return fonts;
}

FontSet::FontSet(PdfFile& file, Embedding embedding) : file_(file), embedding_(embedding), resources_(file.reserve()) {}

FontSet::~FontSet() = default;

QFont FontSet::qfont(unsigned style, int pixelSize) const {
    QFont font((style & kMono) != 0 ? QStringLiteral("DejaVu Sans Mono") : QStringLiteral("DejaVu Sans"));
    font.setStyleHint((style & kMono) != 0 ? QFont::Monospace : QFont::SansSerif);
    font.setBold((style & kBold) != 0);
    font.setItalic((style & kItalic) != 0);
    font.setPixelSize(pixelSize);
    font.setHintingPreference(QFont::PreferNoHinting);
    return font;
}

bool FontSet::isRealFont(const QRawFont& font) {
    // The engine Qt draws boxes with when no font has a glyph is valid but has no tables (and
    // no family: asking it for one crashes Qt 6.4).
    return font.isValid() && font.fontTable("head").size() >= 54;
}

bool FontSet::available() const {
    return isRealFont(QRawFont::fromFont(qfont(kSans, 100)));
}

FontFace& FontSet::styled(unsigned style) {
    FontFace*& face = styled_[style & 7];
    if (face == nullptr) {
        QRawFont raw = QRawFont::fromFont(qfont(style, 100));
        if (!isRealFont(raw)) raw = QRawFont::fromFont(qfont(kSans, 100));  // checked by available()
        face = &add(raw);
    }
    return *face;
}

FontFace* FontSet::forRawFont(const QRawFont& font) {
    if (!font.isValid()) return nullptr;
    const auto known = byEngine_.constFind(font);
    if (known != byEngine_.cend()) return *known;
    FontFace* face = isRealFont(font) ? &add(font) : nullptr;
    byEngine_.insert(font, face);
    return face;
}

FontFace& FontSet::add(const QRawFont& font) {
    const QString key = font.familyName() + QLatin1Char('\n') + font.styleName() + QLatin1Char('\n') +
                        QString::number(font.weight()) + QLatin1Char('\n') + QString::number(int(font.style()));
    if (FontFace* known = byName_.value(key)) return *known;
    const bool outlines = embedding_ == Embedding::Outlines || font.fontTable("loca").isEmpty();
    faces_.push_back(std::make_unique<FontFace>(font, int(faces_.size()), file_.reserve(), outlines));
    byName_.insert(key, faces_.back().get());
    return *faces_.back();
}

void FontSet::write() {
    std::vector<std::pair<QByteArray, int>> fonts;
    for (const auto& face : faces_) {
        for (auto& font : face->write(file_)) fonts.push_back(std::move(font));
    }
    file_.beginObject(resources_);
    file_ << "<</ProcSet[/PDF/Text]/Font<<";
    for (const auto& [name, object] : fonts) file_ << '/' << name << ' ' << object << " 0 R";
    file_ << ">>>>";
    file_.endObject();
}

}  // namespace fm::pdf
