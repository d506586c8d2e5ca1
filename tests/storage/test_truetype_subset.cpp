// The PDF writer's TrueType subsetter (app/export/pdf/truetype_subset.h): a subset of a real
// font (DejaVu) draws the kept glyphs exactly as the original does and nothing else, its table
// directory is what the OpenType spec requires, and hostile tables are refused with a message
// naming the table. The expectations come from the test's own reading of the font (its own
// 'loca'/'glyf' parser, written separately from the subsetter's) and from FreeType via QRawFont.

#include "app/export/pdf/truetype_subset.h"

#include <QFile>
#include <QMap>
#include <QPainterPath>
#include <QRawFont>
#include <QSet>
#include <QtTest>

#include <vector>

using fm::pdf::subsetTrueType;

namespace {

const QString kSans = QStringLiteral("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
const QString kSansBold = QStringLiteral("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf");
const QString kMono = QStringLiteral("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf");

using Tables = QMap<QByteArray, QByteArray>;

const QList<QByteArray> kTableTags = {"head", "hhea", "maxp", "hmtx", "loca", "glyf", "cvt ",
                                      "fpgm", "prep", "cmap", "name", "OS/2", "post", "GPOS"};

quint32 be16(const QByteArray& b, qsizetype at) {
    return quint32(uchar(b[at])) << 8 | uchar(b[at + 1]);
}

quint32 be32(const QByteArray& b, qsizetype at) {
    return be16(b, at) << 16 | be16(b, at + 2);
}

void put16(QByteArray& b, qsizetype at, quint32 v) {
    b[at] = char(v >> 8);
    b[at + 1] = char(v);
}

void put32(QByteArray& b, qsizetype at, quint32 v) {
    put16(b, at, v >> 16);
    put16(b, at + 2, v & 0xFFFF);
}

quint32 sum32(const QByteArray& b) {
    QByteArray padded = b;
    while (padded.size() % 4) padded.append('\0');
    quint32 sum = 0;
    for (qsizetype i = 0; i < padded.size(); i += 4) sum += be32(padded, i);
    return sum;
}

Tables tablesOf(const QRawFont& font) {
    Tables tables;
    for (const QByteArray& tag : kTableTags) {
        const QByteArray bytes = font.fontTable(tag.constData());
        if (!bytes.isEmpty()) tables.insert(tag, bytes);
    }
    return tables;
}

fm::pdf::TableReader readerOf(const Tables& tables) {
    return [tables](const char* tag) { return tables.value(QByteArray(tag, 4)); };
}

quint32 numGlyphs(const Tables& t) {
    return be16(t["maxp"], 4);
}

// The glyph offsets of 'loca', short or long, as the spec defines them.
std::vector<quint32> locaOffsets(const Tables& t) {
    const bool isLong = be16(t["head"], 50) == 1;
    std::vector<quint32> offsets;
    for (quint32 i = 0; i <= numGlyphs(t); ++i)
        offsets.push_back(isLong ? be32(t["loca"], 4 * i) : 2 * be16(t["loca"], 2 * i));
    return offsets;
}

QByteArray glyphBytes(const Tables& t, const std::vector<quint32>& offsets, quint32 glyph) {
    return t["glyf"].mid(offsets[glyph], offsets[glyph + 1] - offsets[glyph]);
}

QByteArray glyphBytes(const Tables& t, quint32 glyph) {
    return glyphBytes(t, locaOffsets(t), glyph);
}

bool isComposite(const QByteArray& glyph) {
    return glyph.size() >= 10 && qint16(be16(glyph, 0)) < 0;
}

// The glyph ids a composite glyph's components name (its direct components only).
QList<quint32> componentsOf(const QByteArray& glyph) {
    QList<quint32> result;
    if (!isComposite(glyph)) return result;
    qsizetype at = 10;
    while (true) {
        const quint32 flags = be16(glyph, at);
        result.append(be16(glyph, at + 2));
        at += (flags & 0x0001) ? 8 : 6;
        at += (flags & 0x0008) ? 2 : (flags & 0x0040) ? 4 : (flags & 0x0080) ? 8 : 0;
        if (!(flags & 0x0020)) return result;
    }
}

// Glyph 0, the requested glyphs and their components, recursively.
QSet<quint32> closureOf(const Tables& t, const QList<quint32>& glyphs) {
    QSet<quint32> result;
    QList<quint32> pending = glyphs;
    pending.append(0);
    while (!pending.isEmpty()) {
        const quint32 g = pending.takeLast();
        if (result.contains(g)) continue;
        result.insert(g);
        pending.append(componentsOf(glyphBytes(t, g)));
    }
    return result;
}

// Empty when the two paths have the same elements at the same points.
QString pathDifference(const QPainterPath& a, const QPainterPath& b) {
    if (a.elementCount() != b.elementCount())
        return QStringLiteral("%1 path elements instead of %2").arg(b.elementCount()).arg(a.elementCount());
    for (int i = 0; i < a.elementCount(); ++i) {
        const auto& x = a.elementAt(i);
        const auto& y = b.elementAt(i);
        if (x.type != y.type || x.x != y.x || x.y != y.y)
            return QStringLiteral("element %1 is (%2, %3) instead of (%4, %5)")
                .arg(i)
                .arg(y.x)
                .arg(y.y)
                .arg(x.x)
                .arg(x.y);
    }
    return {};
}

// Reads an sfnt file's directory and checks it against the spec: sorted tags, binary-search
// fields, 4-aligned offsets inside the file, table checksums, head.checkSumAdjustment. Returns
// what is wrong, or an empty string with `tables` filled.
QString sfntProblem(const QByteArray& file, Tables* tables) {
    if (file.size() < 12) return QStringLiteral("shorter than the offset table");
    if (be32(file, 0) != 0x00010000) return QStringLiteral("sfnt version is not 1.0");
    const quint32 count = be16(file, 4);
    quint32 power = 1, log2 = 0;
    while (power * 2 <= count) power *= 2, ++log2;
    if (be16(file, 6) != power * 16 || be16(file, 8) != log2 || be16(file, 10) != count * 16 - power * 16)
        return QStringLiteral("searchRange/entrySelector/rangeShift are wrong");
    if (file.size() < 12 + 16 * qsizetype(count)) return QStringLiteral("directory past the end");
    QByteArray previous;
    qsizetype headOffset = -1;
    for (quint32 i = 0; i < count; ++i) {
        const qsizetype entry = 12 + 16 * i;
        const QByteArray tag = file.mid(entry, 4);
        const quint32 checksum = be32(file, entry + 4), offset = be32(file, entry + 8), length = be32(file, entry + 12);
        if (!previous.isEmpty() && !(previous < tag)) return QStringLiteral("tags not sorted at ") + tag;
        previous = tag;
        if (offset % 4) return QStringLiteral("table %1 at offset %2, not 4-aligned").arg(tag).arg(offset);
        if (qsizetype(offset) + length > file.size()) return QStringLiteral("table %1 past the end").arg(tag);
        QByteArray bytes = file.mid(offset, length);
        tables->insert(tag, bytes);
        if (tag == "head") headOffset = offset;
        if (tag == "head") put32(bytes, 8, 0);  // summed as 0, by the spec
        if (sum32(bytes) != checksum) return QStringLiteral("checksum of %1 is wrong").arg(tag);
    }
    if (headOffset < 0 || (*tables)["head"].size() < 54) return QStringLiteral("no head table");
    QByteArray zeroed = file;
    put32(zeroed, headOffset + 8, 0);
    if (be32((*tables)["head"], 8) != 0xB1B0AFBA - sum32(zeroed))
        return QStringLiteral("head.checkSumAdjustment is not 0xB1B0AFBA minus the file's sum");
    return {};
}

QRawFont loadedFont(const QString& path) {
    return QFile::exists(path) ? QRawFont(path, 1000) : QRawFont();
}

QList<quint32> glyphsOf(const QRawFont& font, const QString& text) {
    return font.glyphIndexesForString(text);
}

// Ways of breaking DejaVu Sans's tables, each with the message it must give.
enum class Mutation {
    TruncatedGlyf,
    LocaPastGlyf,
    LocaDescending,
    LocaTooShort,
    NumGlyphsZero,
    NoGlyf,
    NoHmtx,
    ShortHmtx,
    MetricsCountZero,
    ShortHead,
    BadHeadMagic,
    BadLocFormat,
    GlyphShorterThanHeader,
    CompositeCycle,
    ComponentBeyondNumGlyphs,
    CompositeRecordTruncated,
    NestedSeventeenDeep,
};

// Replaces the last `count` glyphs with a chain of composites, each with the next one as its only
// component and the simple glyph `leaf` at the end. Returns the chain's first glyph.
quint32 chainComposites(Tables& t, int count, quint32 leaf) {
    const quint32 n = numGlyphs(t);
    const quint32 first = n - quint32(count);
    t["glyf"].truncate(locaOffsets(t)[first]);
    for (int k = 0; k < count; ++k) {
        put32(t["loca"], 4 * (first + k), quint32(t["glyf"].size()));
        QByteArray glyph(16, '\0');
        put16(glyph, 0, 0xFFFF);  // numberOfContours -1: composite
        // ARGS_ARE_XY_VALUES with byte arguments 0, 0; USE_MY_METRICS, so that FreeType places
        // the chain as it places the leaf, whatever the replaced glyphs' hmtx says.
        put16(glyph, 10, 0x0002 | 0x0200);
        put16(glyph, 12, k + 1 < count ? first + k + 1 : leaf);
        t["glyf"].append(glyph);
    }
    put32(t["loca"], 4 * n, quint32(t["glyf"].size()));
    return first;
}

// Applies `m` to DejaVu Sans's tables; `request` is what the subset asks for ("Hé").
void mutate(Tables& t, Mutation m, QList<quint32>& request) {
    const quint32 h = request[0], eAcute = request[1];
    const auto offsets = locaOffsets(t);
    const quint32 n = numGlyphs(t);
    switch (m) {
    case Mutation::TruncatedGlyf: t["glyf"].truncate(t["glyf"].size() / 2); break;
    case Mutation::LocaPastGlyf: put32(t["loca"], 4 * n, quint32(t["glyf"].size()) + 4); break;
    case Mutation::LocaDescending: put32(t["loca"], 4 * (h + 1), offsets[h] - 2); break;
    case Mutation::LocaTooShort: t["loca"].truncate(4 * n); break;
    case Mutation::NumGlyphsZero: put16(t["maxp"], 4, 0); break;
    case Mutation::NoGlyf: t.remove("glyf"); break;
    case Mutation::NoHmtx: t.remove("hmtx"); break;
    case Mutation::ShortHmtx: t["hmtx"].chop(2); break;
    case Mutation::MetricsCountZero: put16(t["hhea"], 34, 0); break;
    case Mutation::ShortHead: t["head"].truncate(50); break;
    case Mutation::BadHeadMagic: put32(t["head"], 12, 0x12345678); break;
    case Mutation::BadLocFormat: put16(t["head"], 50, 2); break;
    case Mutation::GlyphShorterThanHeader: put32(t["loca"], 4 * (h + 1), offsets[h] + 4); break;
    case Mutation::CompositeCycle: put16(t["glyf"], offsets[eAcute] + 12, eAcute); break;
    case Mutation::ComponentBeyondNumGlyphs: put16(t["glyf"], offsets[eAcute] + 12, n); break;
    case Mutation::CompositeRecordTruncated: put32(t["loca"], 4 * (eAcute + 1), offsets[eAcute] + 14); break;
    case Mutation::NestedSeventeenDeep: request.append(chainComposites(t, 17, h)); break;
    }
}

}  // namespace

Q_DECLARE_METATYPE(Mutation)

class TestTrueTypeSubset : public QObject {
    Q_OBJECT

private slots:
    void keepsRequestedGlyphsExactly_data();
    void keepsRequestedGlyphsExactly();
    void readsShortLoca();
    void acceptsNestingSixteenDeep();
    void ignoresGlyphIdsBeyondTheFont();
    void refusesAnInvalidFont();
    void refusesHostileTables_data();
    void refusesHostileTables();
};

void TestTrueTypeSubset::keepsRequestedGlyphsExactly_data() {
    QTest::addColumn<QString>("fontPath");
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("hasComposite");
    for (const QString& path : {kSans, kSansBold, kMono}) {
        const QString font = QFileInfo(path).baseName();
        QTest::newRow(qPrintable(font + " Hello")) << path << QStringLiteral("Hello") << false;
        QTest::newRow(qPrintable(font + " e-acute")) << path << QStringLiteral("\u00e9") << true;
        QTest::newRow(qPrintable(font + " fi")) << path << QStringLiteral("fi") << false;
        QTest::newRow(qPrintable(font + " Greek")) << path << QStringLiteral("Ελληνικά") << true;
        QTest::newRow(qPrintable(font + " Russian")) << path << QStringLiteral("русский") << true;
        QTest::newRow(qPrintable(font + " digits")) << path << QStringLiteral("0123456789") << false;
    }
}

void TestTrueTypeSubset::keepsRequestedGlyphsExactly() {
    QFETCH(QString, fontPath);
    QFETCH(QString, text);
    QFETCH(bool, hasComposite);
    const QRawFont original = loadedFont(fontPath);
    if (!original.isValid()) QSKIP(qPrintable(fontPath + QStringLiteral(" is not installed")));
    const Tables originalTables = tablesOf(original);
    const QList<quint32> requested = glyphsOf(original, text);
    QVERIFY(!requested.contains(0));  // every character is in the font
    const QSet<quint32> kept = closureOf(originalTables, requested);
    bool composite = false;
    for (quint32 g : requested) composite = composite || isComposite(glyphBytes(originalTables, g));
    QCOMPARE(composite, hasComposite);

    const auto subset = subsetTrueType(original, std::span<const quint32>(requested.data(), requested.size()));
    QVERIFY2(subset.ok(), subset.error().c_str());

    Tables subsetTables;
    const QString problem = sfntProblem(*subset, &subsetTables);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    for (const QByteArray tag :
         {"cmap", "cvt ", "fpgm", "glyf", "head", "hhea", "hmtx", "loca", "maxp", "name", "OS/2", "post", "prep"})
        QVERIFY2(subsetTables.contains(tag), tag.constData());
    QVERIFY(!subsetTables.contains("GPOS"));
    QCOMPARE(be16(subsetTables["head"], 50), 1u);          // long loca
    QCOMPARE(be32(subsetTables["post"], 0), 0x00030000u);  // no glyph names
    QCOMPARE(subsetTables["hmtx"], originalTables["hmtx"]);
    QCOMPARE(subsetTables["maxp"], originalTables["maxp"]);

    // Byte for byte: kept glyphs as they were (padded to 4), all others empty.
    const auto originalOffsets = locaOffsets(originalTables);
    const auto offsets = locaOffsets(subsetTables);
    QCOMPARE(offsets.size(), originalOffsets.size());
    for (quint32 g = 0; g < numGlyphs(originalTables); ++g) {
        const QByteArray before = glyphBytes(originalTables, originalOffsets, g);
        const QByteArray after = glyphBytes(subsetTables, offsets, g);
        if (!kept.contains(g)) {
            QVERIFY2(after.isEmpty(), qPrintable(QStringLiteral("glyph %1 was not asked for").arg(g)));
            continue;
        }
        QCOMPARE(offsets[g] % 4, 0u);
        QCOMPARE(after.left(before.size()), before);
        QCOMPARE(after.size(), (before.size() + 3) / 4 * 4);
    }
    QVERIFY2(subset->size() < originalTables["glyf"].size() / 4,
             qPrintable(QStringLiteral("%1 bytes").arg(subset->size())));

    // What FreeType draws from the subset: the same outlines and advances for every kept glyph.
    const QRawFont reloaded(*subset, 1000);
    QVERIFY(reloaded.isValid());
    for (quint32 g : kept) {
        const QString difference = pathDifference(original.pathForGlyph(g), reloaded.pathForGlyph(g));
        QVERIFY2(difference.isEmpty(), qPrintable(QStringLiteral("glyph %1: ").arg(g) + difference));
        QCOMPARE(reloaded.advancesForGlyphIndexes(QList<quint32>{g}), original.advancesForGlyphIndexes({g}));
    }
    const quint32 z = glyphsOf(original, QStringLiteral("Z")).value(0);
    QVERIFY(!kept.contains(z));
    QVERIFY(!original.pathForGlyph(z).isEmpty());
    QVERIFY(reloaded.pathForGlyph(z).isEmpty());
}

// A font with short (uint16, offset/2) 'loca' offsets: DejaVu's glyf is too large for them, so
// the test makes one from the glyphs of "Hé" and their components, each padded to 2 bytes.
void TestTrueTypeSubset::readsShortLoca() {
    const QRawFont original = loadedFont(kSans);
    if (!original.isValid()) QSKIP(qPrintable(kSans + QStringLiteral(" is not installed")));
    Tables tables = tablesOf(original);
    const QList<quint32> requested = glyphsOf(original, QStringLiteral("H\u00e9"));
    const QSet<quint32> kept = closureOf(tables, requested);
    QByteArray glyf, loca;
    for (quint32 g = 0; g < numGlyphs(tables); ++g) {
        loca.append(2, '\0');
        put16(loca, loca.size() - 2, quint32(glyf.size() / 2));
        if (!kept.contains(g)) continue;
        glyf.append(glyphBytes(tables, g));
        if (glyf.size() % 2) glyf.append('\0');
    }
    loca.append(2, '\0');
    put16(loca, loca.size() - 2, quint32(glyf.size() / 2));
    tables["glyf"] = glyf;
    tables["loca"] = loca;
    put16(tables["head"], 50, 0);

    const auto subset = subsetTrueType(readerOf(tables), std::span<const quint32>(requested.data(), requested.size()));
    QVERIFY2(subset.ok(), subset.error().c_str());
    Tables subsetTables;
    const QString problem = sfntProblem(*subset, &subsetTables);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    const QRawFont reloaded(*subset, 1000);
    QVERIFY(reloaded.isValid());
    QCOMPARE(kept.size(), 5);  // .notdef, H, e-acute and its two components
    for (quint32 g : kept) {
        const QString difference = pathDifference(original.pathForGlyph(g), reloaded.pathForGlyph(g));
        QVERIFY2(difference.isEmpty(), qPrintable(QStringLiteral("glyph %1: ").arg(g) + difference));
    }
}

// The spec's limit, 16 levels of composites, is allowed; 17 is in refusesHostileTables.
void TestTrueTypeSubset::acceptsNestingSixteenDeep() {
    const QRawFont original = loadedFont(kSans);
    if (!original.isValid()) QSKIP(qPrintable(kSans + QStringLiteral(" is not installed")));
    Tables tables = tablesOf(original);
    const quint32 h = glyphsOf(original, QStringLiteral("H"))[0];
    const quint32 first = chainComposites(tables, 16, h);
    const quint32 request[] = {first};
    const auto subset = subsetTrueType(readerOf(tables), request);
    QVERIFY2(subset.ok(), subset.error().c_str());
    const QRawFont reloaded(*subset, 1000);
    QVERIFY(reloaded.isValid());
    const QString difference = pathDifference(original.pathForGlyph(h), reloaded.pathForGlyph(first));
    QVERIFY2(difference.isEmpty(), qPrintable(difference));
}

void TestTrueTypeSubset::ignoresGlyphIdsBeyondTheFont() {
    const QRawFont original = loadedFont(kMono);
    if (!original.isValid()) QSKIP(qPrintable(kMono + QStringLiteral(" is not installed")));
    const Tables tables = tablesOf(original);
    const quint32 request[] = {numGlyphs(tables), 0xFFFF, 0xFFFFFFFF};
    const auto subset = subsetTrueType(original, request);
    QVERIFY2(subset.ok(), subset.error().c_str());
    Tables subsetTables;
    const QString problem = sfntProblem(*subset, &subsetTables);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    const QByteArray notdef = glyphBytes(tables, 0);
    QCOMPARE(subsetTables["glyf"].size(), (notdef.size() + 3) / 4 * 4);
    QCOMPARE(subsetTables["glyf"].left(notdef.size()), notdef);
}

void TestTrueTypeSubset::refusesAnInvalidFont() {
    const quint32 request[] = {1};
    const auto subset = subsetTrueType(QRawFont(), request);
    QVERIFY(!subset.ok());
    QVERIFY(!subset.error().empty());
}

void TestTrueTypeSubset::refusesHostileTables_data() {
    QTest::addColumn<Mutation>("mutation");
    QTest::addColumn<QString>("message");
    QTest::newRow("truncated glyf") << Mutation::TruncatedGlyf << QStringLiteral("past the end of 'glyf'");
    QTest::newRow("loca past glyf") << Mutation::LocaPastGlyf << QStringLiteral("'loca': offset");
    QTest::newRow("descending loca") << Mutation::LocaDescending << QStringLiteral("'loca': offsets descend");
    QTest::newRow("loca too short") << Mutation::LocaTooShort << QStringLiteral("'loca'");
    QTest::newRow("numGlyphs 0") << Mutation::NumGlyphsZero << QStringLiteral("'maxp': numGlyphs is 0");
    QTest::newRow("no glyf (CFF)") << Mutation::NoGlyf << QStringLiteral("'glyf': missing");
    QTest::newRow("no hmtx") << Mutation::NoHmtx << QStringLiteral("'hmtx': missing");
    QTest::newRow("short hmtx") << Mutation::ShortHmtx << QStringLiteral("'hmtx'");
    QTest::newRow("numberOfHMetrics 0") << Mutation::MetricsCountZero << QStringLiteral("'hhea'");
    QTest::newRow("short head") << Mutation::ShortHead << QStringLiteral("'head'");
    QTest::newRow("head magic") << Mutation::BadHeadMagic << QStringLiteral("'head': wrong magic");
    QTest::newRow("indexToLocFormat 2") << Mutation::BadLocFormat << QStringLiteral("'head': indexToLocFormat");
    QTest::newRow("glyph shorter than its header")
        << Mutation::GlyphShorterThanHeader << QStringLiteral("shorter than a glyph header");
    QTest::newRow("composite refers to itself") << Mutation::CompositeCycle << QStringLiteral("(a cycle)");
    QTest::newRow("component beyond numGlyphs")
        << Mutation::ComponentBeyondNumGlyphs << QStringLiteral("beyond numGlyphs");
    QTest::newRow("component record truncated")
        << Mutation::CompositeRecordTruncated << QStringLiteral("past the glyph's end");
    QTest::newRow("composites 17 deep") << Mutation::NestedSeventeenDeep << QStringLiteral("deeper than 16 levels");
}

void TestTrueTypeSubset::refusesHostileTables() {
    QFETCH(Mutation, mutation);
    QFETCH(QString, message);
    const QRawFont original = loadedFont(kSans);
    if (!original.isValid()) QSKIP(qPrintable(kSans + QStringLiteral(" is not installed")));
    Tables tables = tablesOf(original);
    QList<quint32> request = glyphsOf(original, QStringLiteral("H\u00e9"));
    QVERIFY(isComposite(glyphBytes(tables, request[1])));
    // The unchanged tables subset fine, so the error below is the mutation's.
    QVERIFY(subsetTrueType(readerOf(tables), std::span<const quint32>(request.data(), request.size())).ok());
    mutate(tables, mutation, request);
    const auto subset = subsetTrueType(readerOf(tables), std::span<const quint32>(request.data(), request.size()));
    QVERIFY(!subset.ok());
    const QString error = QString::fromStdString(subset.error());
    QVERIFY2(error.contains(message), qPrintable(error));
    QVERIFY2(error.startsWith(QStringLiteral("TrueType table '")), qPrintable(error));
}

QTEST_MAIN(TestTrueTypeSubset)
#include "test_truetype_subset.moc"
