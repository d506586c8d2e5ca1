#pragma once
// The PDF's fonts: each face the text uses (DejaVu Sans and Sans Mono in four styles, and
// whatever fallback faces Qt picks for other scripts) measured here and embedded at the end.
//
// Codes are CIDs of our own, one per (glyph, character) pair met, not glyph ids: so every code
// maps back to exactly the character it was drawn for (its ToUnicode entry), even where one glyph
// stands for several characters (a missing glyph, or "A" and "Α" sharing an outline). A
// CIDToGIDMap takes each code to its glyph. TrueType faces are embedded as a subset (only the
// glyphs used keep their outlines); a face without TrueType outlines is referenced, not embedded.
//
// Measuring is the hot path of a long export: a face keeps, per character of the Basic
// Multilingual Plane, its code and advance once met, so laying out a character costs one lookup.

#include <QHash>
#include <QRawFont>
#include <QString>

#include <memory>
#include <unordered_map>
#include <vector>

namespace fm::pdf {

class PdfFile;

struct Glyph {
    quint16 code = 0;   // 0: the face cannot set this character on its own (see simpleGlyph)
    float advance = 0;  // in ems
};

class FontFace {
public:
    FontFace(const QRawFont& font, int index, int object);

    // The glyph for `ch`, when the face has one and the character needs no shaping (no marks,
    // no right-to-left or complex script, no controls): the fast path of the layout. A glyph
    // with code 0 otherwise.
    const Glyph& simpleGlyph(char16_t ch);
    // A code for a glyph Qt placed (the shaped path), mapped to the characters it stands for
    // (none, several: a ligature, a letter and its accents).
    quint16 codeForShapedGlyph(quint32 glyph, const QString& text);
    float advanceOf(quint32 glyph) const;  // in ems

    float ascent() const { return ascent_; }  // in ems
    float descent() const { return descent_; }
    int index() const { return index_; }  // the resource name is /F<index>
    int object() const { return object_; }
    const QRawFont& rawFont() const { return font_; }

    // The Type0 font, its CIDFont, descriptor, widths, ToUnicode and CIDToGIDMap, and the
    // embedded subset when the face is TrueType.
    void write(PdfFile& file) const;

private:
    quint16 newCode(quint32 glyph, const QString& text);

    QRawFont font_;  // at a pixel size of unitsPerEm: metrics come in font units
    int index_;
    int object_;
    float unitsPerEm_;
    float ascent_ = 0, descent_ = 0;
    std::vector<quint16> advances_;  // font units, by glyph (from hmtx)
    std::vector<Glyph> bmp_;         // by character; advance < 0: not looked up yet
    QHash<std::pair<quint32, QString>, quint16> shaped_;
    struct Code {
        quint32 glyph;
        QString text;  // empty: none
    };
    std::vector<Code> codes_;  // by code; code 0 is glyph 0
};

// The faces of one PDF.
class FontSet {
public:
    explicit FontSet(PdfFile& file);
    ~FontSet();

    enum Style : unsigned { kSans = 0, kBold = 1, kItalic = 2, kMono = 4 };
    FontFace& styled(unsigned style);
    // A face Qt chose while shaping; null for Qt's box-drawing stand-in (no font had the glyph).
    FontFace* forRawFont(const QRawFont& font);
    // The QFont the shaped path lays a style out with, at `pixelSize` (hinting off).
    QFont qfont(unsigned style, int pixelSize) const;

    int resourcesObject() const { return resources_; }
    // Every face, and the resource dictionary that names them.
    void write();

private:
    FontFace& add(const QRawFont& font);

    PdfFile& file_;
    int resources_;
    std::vector<std::unique_ptr<FontFace>> faces_;
    FontFace* styled_[8] = {};
    QHash<QString, FontFace*> byName_;
    QHash<QRawFont, FontFace*> byEngine_;
};

}  // namespace fm::pdf
