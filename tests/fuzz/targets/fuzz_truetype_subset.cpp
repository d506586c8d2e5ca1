// TrueType tables -> subsetTrueType (the PDF writer's font subsetter): never crashes or reads out
// of bounds, and a subset it returns is a well-formed sfnt file that subsets to itself again
// (same glyphs asked for, same bytes out).
//
// Input: the tables head, maxp, hhea, hmtx, loca, glyf, cvt, post in that order, each a
// big-endian uint16 length and that many bytes (fewer at the end of the input), then the glyph
// ids to keep as big-endian uint16s.
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "app/export/pdf/truetype_subset.h"

namespace {

using Tables = std::map<std::string, QByteArray>;

const char* const kTags[] = {"head", "maxp", "hhea", "hmtx", "loca", "glyf", "cvt ", "post"};

quint32 be16(const QByteArray& b, qsizetype at) {
    return quint32(uchar(b[at])) << 8 | uchar(b[at + 1]);
}

quint32 be32(const QByteArray& b, qsizetype at) {
    return be16(b, at) << 16 | be16(b, at + 2);
}

fm::pdf::TableReader readerOf(const Tables& tables) {
    return [&tables](const char* tag) {
        const auto it = tables.find(std::string(tag, 4));
        return it == tables.end() ? QByteArray() : it->second;
    };
}

// The tables of a subset, read back from its directory; aborts where the directory is not one
// the subsetter should write (unsorted tags, unaligned or out-of-bounds tables).
Tables readSfnt(const QByteArray& file) {
    if (file.size() < 12 || be32(file, 0) != 0x00010000) std::abort();
    const quint32 count = be16(file, 4);
    if (file.size() < 12 + 16 * qsizetype(count)) std::abort();
    Tables tables;
    std::string previous;
    for (quint32 i = 0; i < count; ++i) {
        const qsizetype entry = 12 + 16 * qsizetype(i);
        const std::string tag(file.constData() + entry, 4);
        const quint32 offset = be32(file, entry + 8), length = be32(file, entry + 12);
        if (tag <= previous || offset % 4 != 0 || qsizetype(offset) + length > file.size()) std::abort();
        previous = tag;
        tables[tag] = file.mid(offset, length);
    }
    return tables;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const QByteArray input = QByteArray::fromRawData(reinterpret_cast<const char*>(data), qsizetype(size));
    Tables tables;
    qsizetype at = 0;
    for (const char* tag : kTags) {
        if (at + 2 > input.size()) break;
        const qsizetype length = be16(input, at);
        at += 2;
        tables[tag] = input.mid(at, length);
        at += tables[tag].size();
    }
    std::vector<quint32> glyphs;
    for (; at + 2 <= input.size(); at += 2) glyphs.push_back(be16(input, at));

    const auto subset = fm::pdf::subsetTrueType(readerOf(tables), glyphs);
    if (!subset) {
        if (subset.error().empty()) std::abort();
        return 0;
    }
    const Tables written = readSfnt(*subset);
    // A subset whose kept glyphs are all empty has an empty 'glyf', which reads as missing.
    if (written.at("glyf").isEmpty()) return 0;
    const auto again = fm::pdf::subsetTrueType(readerOf(written), glyphs);
    if (!again || *again != *subset) std::abort();
    return 0;
}
