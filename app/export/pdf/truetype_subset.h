#pragma once
// TrueType subsetting for the PDF writer, which embeds fonts as CIDFontType2 with a FontFile2
// stream. A 100,000-message export uses a few hundred glyphs of fonts that hold thousands, so
// only the glyphs in use keep their outlines.
//
// Glyph ids are kept as they are: every other glyph becomes empty (zero length in 'loca') instead
// of being renumbered. The PDF's CIDToGIDMap can then name the glyph ids its text layout got
// from Qt, hmtx, cmap and the hinting programs stay valid unchanged, and the cost of the empty
// glyphs is four bytes each in 'loca'.
//
// Tables written: head (long 'loca' offsets, checkSumAdjustment recomputed), hhea, maxp, hmtx
// (copied), loca (rebuilt, long), glyf (the kept glyphs only), cvt, fpgm and prep when present
// (the hinting programs the kept glyphs' instructions may call), cmap, name and OS/2 when present
// (small, and some viewers refuse a font without them) and post cut to version 3.0 (no glyph
// names: they are the largest part of 'post' and a PDF addresses glyphs by id). Everything else
// (layout tables, kerning, bitmaps) is dropped: the PDF positions every glyph itself.
//
// The input is untrusted (a user's font file): every offset is checked, malformed tables are
// reported as errors naming the table, nothing throws or reads out of bounds.

#include "inference/core/result.h"

#include <QByteArray>
#include <QtGlobal>

#include <functional>
#include <span>

class QRawFont;

namespace fm::pdf {

// Returns an sfnt (TrueType) font file built from `font`'s tables in which only the glyphs in
// `glyphs` (plus glyph 0, the .notdef glyph, and every component of a composite glyph,
// recursively) keep their outlines; every other glyph is empty. Glyph ids are unchanged. Glyph
// ids >= the font's number of glyphs are ignored.
//
// Fails with a message naming the table when the font has no 'glyf', 'loca', 'head', 'maxp',
// 'hhea' or 'hmtx' table (a CFF-based OpenType font, a bitmap font) or when one is malformed
// (offsets out of bounds, 'loca' not ascending, sizes that disagree with numGlyphs, composite
// glyphs nested deeper than 16 levels or referring to themselves).
Result<QByteArray> subsetTrueType(const QRawFont& font, std::span<const quint32> glyphs);

// Reads one table of the font by its four-character tag (a NUL-terminated string such as "glyf"
// or "cvt "); returns an empty array when the font has no such table.
using TableReader = std::function<QByteArray(const char* tag)>;

// The same from the raw tables, which the overload above reads with QRawFont::fontTable; for
// tests and the fuzzer, which hand it tables of their own.
Result<QByteArray> subsetTrueType(const TableReader& table, std::span<const quint32> glyphs);

}  // namespace fm::pdf
