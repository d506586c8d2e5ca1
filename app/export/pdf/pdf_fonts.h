#pragma once
// The PDF's fonts: each face the text uses (DejaVu Sans and Sans Mono in four styles, and
// whatever fallback faces Qt picks for other scripts) measured here and embedded at the end.
//
// Codes are CIDs of our own, one per (glyph, character) pair met, not glyph ids: so every code
// maps back to exactly the character it was drawn for (its ToUnicode entry), even where one glyph
// stands for several characters (a missing glyph, or "A" and "Α" sharing an outline). A
// CIDToGIDMap takes each code to its glyph. TrueType faces are embedded as a subset (only the
// glyphs used keep their outlines). A face without TrueType outlines (CFF-based OpenType, as
// many CJK fonts are) is embedded as Type 3 fonts instead, 256 codes each, every glyph drawn
// from its outline: larger and unhinted, but shown the same everywhere and still mapped to text.
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
    // `outlines`: embed as Type 3 glyph outlines rather than a TrueType subset.
    FontFace(const QRawFont& font, int index, int object, bool outlines);

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
    const QRawFont& rawFont() const { return font_; }

    // Codes are written as two bytes in one font, or as one byte in the Type 3 font of their
    // block of 256.
    bool outlines() const { return outlines_; }
    // The font resource a code is set in: "/F3", or "/F3-1" for a Type 3 face's second block.
    QByteArray resourceName(quint16 code) const;

    // The fonts, each with its descriptor, widths and ToUnicode map: a Type0 font with its
    // CIDFont, CIDToGIDMap and TrueType subset, or the Type 3 fonts. Returns the resource names
    // (without the slash) and objects the pages refer to.
    std::vector<std::pair<QByteArray, int>> write(PdfFile& file) const;

private:
    quint16 newCode(quint32 glyph, const QString& text);
    std::vector<std::pair<QByteArray, int>> writeType3(PdfFile& file) const;

    QRawFont font_;  // at a pixel size of unitsPerEm: metrics come in font units
    int index_;
    int object_;
    bool outlines_;
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
    enum class Embedding {
        Automatic,  // TrueType subsets where the face has TrueType outlines, Type 3 otherwise
        Outlines,   // Type 3 for every face (tests compare the two)
    };
    explicit FontSet(PdfFile& file, Embedding embedding = Embedding::Automatic);
    ~FontSet();

    enum Style : unsigned { kSans = 0, kBold = 1, kItalic = 2, kMono = 4 };
    // Whether the system has a font to set text in at all; styled() needs one.
    bool available() const;
    FontFace& styled(unsigned style);
    // A face Qt chose while shaping; null for Qt's box-drawing stand-in (no font had the glyph).
    FontFace* forRawFont(const QRawFont& font);
    // The QFont the shaped path lays a style out with, at `pixelSize` (hinting off).
    QFont qfont(unsigned style, int pixelSize) const;

    int resourcesObject() const { return resources_; }
    // Every face, and the resource dictionary that names them.
    void write();

private:
    static bool isRealFont(const QRawFont& font);
    FontFace& add(const QRawFont& font);

    PdfFile& file_;
    Embedding embedding_;
    int resources_;
    std::vector<std::unique_ptr<FontFace>> faces_;
    FontFace* styled_[8] = {};
    QHash<QString, FontFace*> byName_;
    QHash<QRawFont, FontFace*> byEngine_;
};

}  // namespace fm::pdf
