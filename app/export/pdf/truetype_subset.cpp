// TrueType subsetting (truetype_subset.h), written from the OpenType specification's chapters on
// the sfnt table directory, 'head', 'maxp', 'hhea', 'hmtx', 'loca', 'glyf' and 'post'.
#include "app/export/pdf/truetype_subset.h"

#include <QRawFont>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fm::pdf {
namespace {

// The spec's limit for composite glyphs inside composite glyphs; deeper nesting, or a cycle, is
// a malformed (or hostile) font.
constexpr int kMaxCompositeDepth = 16;

// Sizes and offsets of the fixed-layout tables (OpenType spec).
constexpr qsizetype kHeadSize = 54;
constexpr qsizetype kHeadCheckSumAdjustment = 8;
constexpr qsizetype kHeadMagicNumber = 12;
constexpr qsizetype kHeadIndexToLocFormat = 50;
constexpr quint32 kHeadMagic = 0x5F0F3CF5;
constexpr qsizetype kMaxpMinSize = 6;
constexpr qsizetype kMaxpNumGlyphs = 4;
constexpr qsizetype kHheaSize = 36;
constexpr qsizetype kHheaNumberOfHMetrics = 34;
constexpr qsizetype kPostHeaderSize = 32;
constexpr qsizetype kGlyphHeaderSize = 10;  // numberOfContours and the bounding box
constexpr quint32 kSfntVersionTrueType = 0x00010000;
constexpr quint32 kPostVersion3 = 0x00030000;
constexpr quint32 kCheckSumMagic = 0xB1B0AFBA;

// Composite glyph component flags ('glyf' chapter).
constexpr quint16 kArg1And2AreWords = 0x0001;
constexpr quint16 kWeHaveAScale = 0x0008;
constexpr quint16 kMoreComponents = 0x0020;
constexpr quint16 kWeHaveAnXAndYScale = 0x0040;
constexpr quint16 kWeHaveATwoByTwo = 0x0080;

Error tableError(const char* tag, const std::string& what) {
    return Error{std::string("TrueType table '") + tag + "': " + what};
}

// Big-endian reads that report a read past the end instead of making it.
std::optional<quint32> readU16(const QByteArray& bytes, qsizetype at) {
    if (at < 0 || at + 2 > bytes.size()) return std::nullopt;
    const auto* p = reinterpret_cast<const uchar*>(bytes.constData()) + at;
    return quint32(p[0]) << 8 | quint32(p[1]);
}

std::optional<quint32> readU32(const QByteArray& bytes, qsizetype at) {
    if (at < 0 || at + 4 > bytes.size()) return std::nullopt;
    const auto* p = reinterpret_cast<const uchar*>(bytes.constData()) + at;
    return quint32(p[0]) << 24 | quint32(p[1]) << 16 | quint32(p[2]) << 8 | quint32(p[3]);
}

// Writes into a copy the caller has made at least `at + 2` / `at + 4` bytes long.
void writeU16(QByteArray& bytes, qsizetype at, quint32 value) {
    bytes[at] = char(value >> 8 & 0xFF);
    bytes[at + 1] = char(value & 0xFF);
}

void writeU32(QByteArray& bytes, qsizetype at, quint32 value) {
    for (int i = 0; i < 4; ++i) bytes[at + i] = char(value >> (24 - 8 * i) & 0xFF);
}

void appendU16(QByteArray& bytes, quint32 value) {
    bytes.append(char(value >> 8 & 0xFF));
    bytes.append(char(value & 0xFF));
}

void appendU32(QByteArray& bytes, quint32 value) {
    for (int i = 0; i < 4; ++i) bytes.append(char(value >> (24 - 8 * i) & 0xFF));
}

void padTo4(QByteArray& bytes) {
    while (bytes.size() % 4 != 0) bytes.append('\0');
}

// The table checksum: the sum of the table as big-endian uint32s, zero-padded to a multiple of 4.
quint32 tableChecksum(const QByteArray& bytes) {
    quint32 sum = 0;
    const auto* p = reinterpret_cast<const uchar*>(bytes.constData());
    for (qsizetype i = 0; i < bytes.size(); i += 4) {
        quint32 word = 0;
        for (qsizetype k = 0; k < 4; ++k) word = word << 8 | (i + k < bytes.size() ? p[i + k] : 0);
        sum += word;
    }
    return sum;
}

quint32 tagValue(const char* tag) {
    return quint32(uchar(tag[0])) << 24 | quint32(uchar(tag[1])) << 16 | quint32(uchar(tag[2])) << 8 |
           quint32(uchar(tag[3]));
}

// The tables the subsetter needs, with what it has read from them.
struct SourceFont {
    QByteArray head, maxp, hhea, hmtx, loca, glyf;
    quint32 numGlyphs = 0;
    std::vector<quint32> glyphOffsets;  // numGlyphs + 1 offsets into glyf, ascending, in bounds
};

Result<QByteArray> requiredTable(const TableReader& table, const char* tag) {
    QByteArray bytes = table(tag);
    if (bytes.isEmpty())
        return tableError(tag,
                          "missing (not a TrueType-outline font: CFF-based OpenType and bitmap fonts have no "
                          "'glyf' outlines to subset)");
    return bytes;
}

Status readHeadAndMaxp(SourceFont& font) {
    if (font.head.size() < kHeadSize)
        return tableError("head", std::to_string(font.head.size()) + " bytes, shorter than the 54 it must have");
    if (readU32(font.head, kHeadMagicNumber) != kHeadMagic) return tableError("head", "wrong magic number");
    const quint32 locFormat = *readU16(font.head, kHeadIndexToLocFormat);
    if (locFormat > 1)
        return tableError("head", "indexToLocFormat is " + std::to_string(locFormat) + ", neither 0 nor 1");
    if (font.maxp.size() < kMaxpMinSize)
        return tableError("maxp", std::to_string(font.maxp.size()) + " bytes, too short for numGlyphs");
    font.numGlyphs = *readU16(font.maxp, kMaxpNumGlyphs);
    if (font.numGlyphs == 0) return tableError("maxp", "numGlyphs is 0 (a font has at least the .notdef glyph)");
    return Status::success();
}

Status checkMetrics(const SourceFont& font) {
    if (font.hhea.size() < kHheaSize)
        return tableError("hhea", std::to_string(font.hhea.size()) + " bytes, shorter than the 36 it must have");
    const quint32 longMetrics = *readU16(font.hhea, kHheaNumberOfHMetrics);
    if (longMetrics == 0 || longMetrics > font.numGlyphs)
        return tableError("hhea", "numberOfHMetrics is " + std::to_string(longMetrics) + ", not between 1 and " +
                                      "numGlyphs (" + std::to_string(font.numGlyphs) + ")");
    const qsizetype needed = qsizetype(longMetrics) * 4 + qsizetype(font.numGlyphs - longMetrics) * 2;
    if (font.hmtx.size() < needed)
        return tableError("hmtx", std::to_string(font.hmtx.size()) + " bytes, but numGlyphs (" +
                                      std::to_string(font.numGlyphs) + ") and numberOfHMetrics need " +
                                      std::to_string(needed));
    return Status::success();
}

// Reads 'loca' into font.glyphOffsets, checking that the offsets ascend and stay inside 'glyf'.
Status readLoca(SourceFont& font) {
    const bool longOffsets = *readU16(font.head, kHeadIndexToLocFormat) == 1;
    const qsizetype entrySize = longOffsets ? 4 : 2;
    const qsizetype needed = (qsizetype(font.numGlyphs) + 1) * entrySize;
    if (font.loca.size() < needed)
        return tableError("loca", std::to_string(font.loca.size()) + " bytes, but numGlyphs (" +
                                      std::to_string(font.numGlyphs) + ") needs " + std::to_string(needed));
    font.glyphOffsets.resize(font.numGlyphs + 1);
    for (quint32 i = 0; i <= font.numGlyphs; ++i) {
        const qsizetype at = qsizetype(i) * entrySize;
        const quint32 offset = longOffsets ? *readU32(font.loca, at) : *readU16(font.loca, at) * 2;
        if (i > 0 && offset < font.glyphOffsets[i - 1])
            return tableError("loca", "offsets descend at glyph " + std::to_string(i) + " (" + std::to_string(offset) +
                                          " after " + std::to_string(font.glyphOffsets[i - 1]) + ")");
        if (offset > quint64(font.glyf.size()))
            return tableError("loca", "offset " + std::to_string(offset) + " of glyph " + std::to_string(i) +
                                          " is past the end of 'glyf' (" + std::to_string(font.glyf.size()) +
                                          " bytes)");
        font.glyphOffsets[i] = offset;
    }
    return Status::success();
}

// Finds every glyph a set of glyphs needs: the glyphs themselves and, for composite glyphs,
// their components, recursively.
class GlyphClosure {
public:
    explicit GlyphClosure(const SourceFont& font)
        : font_(font), state_(font.numGlyphs, State::Unseen), height_(font.numGlyphs, 0) {}

    // Adds `glyph` and its components. Memoised, so each glyph is parsed once however many
    // composites share it.
    Status add(quint32 glyph) { return visit(glyph, 0).status(); }

    std::vector<bool> kept() const {
        std::vector<bool> result(state_.size());
        for (size_t i = 0; i < state_.size(); ++i) result[i] = state_[i] == State::Done;
        return result;
    }

private:
    enum class State { Unseen, InProgress, Done };

    // Returns the nesting height below `glyph` (0 for a simple glyph), so a glyph reached again
    // at a greater depth is still held to the depth limit without being parsed again.
    Result<int> visit(quint32 glyph, int depth) {
        if (state_[glyph] == State::InProgress)
            return glyfError(glyph, "refers to itself through its components (a cycle)");
        if (state_[glyph] == State::Done) {
            if (depth + height_[glyph] > kMaxCompositeDepth) return depthError(glyph);
            return height_[glyph];
        }
        if (depth > kMaxCompositeDepth) return depthError(glyph);
        state_[glyph] = State::InProgress;
        const Result<int> height = visitComponents(glyph, depth);
        if (!height) return height;
        state_[glyph] = State::Done;
        height_[glyph] = *height;
        return height;
    }

    Result<int> visitComponents(quint32 glyph, int depth) {
        const qsizetype begin = font_.glyphOffsets[glyph];
        const qsizetype end = font_.glyphOffsets[glyph + 1];
        if (begin == end) return 0;  // an empty glyph (a space)
        if (end - begin < kGlyphHeaderSize)
            return glyfError(glyph, "is " + std::to_string(end - begin) + " bytes, shorter than a glyph header");
        const qint16 contours = qint16(*readU16(font_.glyf, begin));
        if (contours >= 0) return 0;  // simple glyph: copied as it is
        int height = 0;
        qsizetype at = begin + kGlyphHeaderSize;
        quint32 flags = 0;
        do {
            if (at + 4 > end) return glyfError(glyph, "has a component record past the glyph's end");
            flags = *readU16(font_.glyf, at);
            const quint32 component = *readU16(font_.glyf, at + 2);
            at += 4 + ((flags & kArg1And2AreWords) ? 4 : 2);
            if (flags & kWeHaveAScale)
                at += 2;
            else if (flags & kWeHaveAnXAndYScale)
                at += 4;
            else if (flags & kWeHaveATwoByTwo)
                at += 8;
            if (at > end) return glyfError(glyph, "has a component record past the glyph's end");
            if (component >= font_.numGlyphs)
                return glyfError(glyph, "has component glyph " + std::to_string(component) + ", beyond numGlyphs (" +
                                            std::to_string(font_.numGlyphs) + ")");
            const Result<int> below = visit(component, depth + 1);
            if (!below) return below;
            height = std::max(height, *below + 1);
        } while (flags & kMoreComponents);
        return height;
    }

    static Error glyfError(quint32 glyph, const std::string& what) {
        return tableError("glyf", "glyph " + std::to_string(glyph) + " " + what);
    }

    static Error depthError(quint32 glyph) {
        return glyfError(glyph,
                         "is nested in composite glyphs deeper than " + std::to_string(kMaxCompositeDepth) + " levels");
    }

    const SourceFont& font_;
    std::vector<State> state_;
    std::vector<int> height_;
};

// The new 'glyf' and (long) 'loca': kept glyphs copied, each padded to 4 bytes; others empty.
std::pair<QByteArray, QByteArray> buildGlyfAndLoca(const SourceFont& font, const std::vector<bool>& kept) {
    QByteArray glyf;
    QByteArray loca;
    loca.reserve((qsizetype(font.numGlyphs) + 1) * 4);
    for (quint32 i = 0; i < font.numGlyphs; ++i) {
        appendU32(loca, quint32(glyf.size()));
        if (!kept[i]) continue;
        const qsizetype begin = font.glyphOffsets[i];
        glyf.append(font.glyf.constData() + begin, font.glyphOffsets[i + 1] - begin);
        padTo4(glyf);
    }
    appendU32(loca, quint32(glyf.size()));
    return {glyf, loca};
}

struct OutputTable {
    quint32 tag;
    QByteArray bytes;
};

// The sfnt file: offset table, directory sorted by tag, tables 4-byte aligned, checksums, and
// head.checkSumAdjustment set so that the whole file sums to 0xB1B0AFBA.
QByteArray assembleSfnt(std::vector<OutputTable> tables) {
    std::sort(tables.begin(), tables.end(), [](const auto& a, const auto& b) { return a.tag < b.tag; });
    const quint32 count = quint32(tables.size());
    quint32 entrySelector = 0;
    while ((2u << entrySelector) <= count) ++entrySelector;
    const quint32 searchRange = (1u << entrySelector) * 16;

    QByteArray file;
    appendU32(file, kSfntVersionTrueType);
    appendU16(file, count);
    appendU16(file, searchRange);
    appendU16(file, entrySelector);
    appendU16(file, count * 16 - searchRange);
    qsizetype offset = 12 + qsizetype(count) * 16;
    qsizetype headOffset = -1;
    for (const auto& t : tables) {
        appendU32(file, t.tag);
        appendU32(file, tableChecksum(t.bytes));
        appendU32(file, quint32(offset));
        appendU32(file, quint32(t.bytes.size()));
        if (t.tag == tagValue("head")) headOffset = offset;
        offset += (t.bytes.size() + 3) / 4 * 4;
    }
    for (const auto& t : tables) {
        file.append(t.bytes);
        padTo4(file);
    }
    if (headOffset >= 0) writeU32(file, headOffset + kHeadCheckSumAdjustment, kCheckSumMagic - tableChecksum(file));
    return file;
}

}  // namespace

Result<QByteArray> subsetTrueType(const TableReader& table, std::span<const quint32> glyphs) {
    SourceFont font;
    for (auto [tag, bytes] :
         {std::pair{"head", &font.head}, std::pair{"maxp", &font.maxp}, std::pair{"hhea", &font.hhea},
          std::pair{"hmtx", &font.hmtx}, std::pair{"loca", &font.loca}, std::pair{"glyf", &font.glyf}}) {
        Result<QByteArray> read = requiredTable(table, tag);
        if (!read) return read.status();
        *bytes = std::move(read).value();
    }
    if (Status s = readHeadAndMaxp(font); !s) return s;
    if (Status s = checkMetrics(font); !s) return s;
    if (Status s = readLoca(font); !s) return s;

    GlyphClosure closure(font);
    if (Status s = closure.add(0); !s) return s;
    for (quint32 glyph : glyphs) {
        if (glyph >= font.numGlyphs) continue;
        if (Status s = closure.add(glyph); !s) return s;
    }
    auto [glyf, loca] = buildGlyfAndLoca(font, closure.kept());

    // checkSumAdjustment is summed as 0 and set once the file is complete.
    QByteArray head = font.head;
    writeU32(head, kHeadCheckSumAdjustment, 0);
    writeU16(head, kHeadIndexToLocFormat, 1);

    std::vector<OutputTable> out = {{tagValue("head"), head},      {tagValue("hhea"), font.hhea},
                                    {tagValue("maxp"), font.maxp}, {tagValue("hmtx"), font.hmtx},
                                    {tagValue("loca"), loca},      {tagValue("glyf"), glyf}};
    for (const char* tag : {"cvt ", "fpgm", "prep", "cmap", "name", "OS/2"}) {
        QByteArray bytes = table(tag);
        if (!bytes.isEmpty()) out.push_back({tagValue(tag), std::move(bytes)});
    }
    // 'post' without its glyph names (version 3.0): the header alone, which viewers read for
    // the underline position and isFixedPitch.
    QByteArray post = table("post");
    if (post.size() >= kPostHeaderSize) {
        post.truncate(kPostHeaderSize);
        writeU32(post, 0, kPostVersion3);
        out.push_back({tagValue("post"), post});
    }
    return assembleSfnt(std::move(out));
}

Result<QByteArray> subsetTrueType(const QRawFont& font, std::span<const quint32> glyphs) {
    if (!font.isValid()) return Error{"TrueType subset: the font could not be loaded"};
    return subsetTrueType([&font](const char* tag) { return font.fontTable(tag); }, glyphs);
}

}  // namespace fm::pdf
