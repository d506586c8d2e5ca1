#include "app/export/pdf/page_writer.h"

#include "app/export/pdf/pdf_file.h"

#include <cmath>

namespace fm::pdf {
namespace {

// A4 with 2 cm margins, in points.
constexpr float kPageWidth = 595.2756f;
constexpr float kPageHeight = 841.8898f;
constexpr float kMargin = 56.6929f;
constexpr float kBodyHeight = kPageHeight - 2 * kMargin;

void number(QByteArray& out, double value) {
    appendNumber(out, value);
    out += ' ';
}

// A PDF y for a distance below the body's top.
double pdfY(float fromTop) {
    return double(kPageHeight - kMargin - fromTop);
}

// Codes as a literal string "(...)", two bytes each (one for a Type 3 font): only the bytes
// that would end it, escape, or be read as another line ending need a backslash. Written
// straight into the buffer: this is the innermost loop of a long export.
void appendCodes(QByteArray& out, const quint16* codes, size_t count, bool oneByte) {
    const qsizetype start = out.size();
    out.resize(start + qsizetype(count) * 4 + 2);
    char* p = out.data() + start;
    *p++ = '(';
    for (size_t i = 0; i < count; ++i) {
        const char bytes[2] = {char(codes[i] >> 8), char(codes[i] & 0xFF)};
        for (size_t b = oneByte ? 1 : 0; b < 2; ++b) {
            const char byte = bytes[b];
            switch (byte) {
            case '(':
            case ')':
            case '\\':
                *p++ = '\\';
                *p++ = byte;
                break;
            case '\r':
                *p++ = '\\';
                *p++ = 'r';
                break;
            case '\n':
                *p++ = '\\';
                *p++ = 'n';
                break;
            default: *p++ = byte;
            }
        }
    }
    *p++ = ')';
    out.truncate(p - out.constData());
}

}  // namespace

PageWriter::PageWriter(PdfFile& file, FontSet& fonts, TextLayouter& text)
    : file_(file), fonts_(fonts), text_(text), pageTree_(file.reserve()) {
    content_.reserve(64 * 1024);
}

float PageWriter::bodyWidth() const {
    return kPageWidth - 2 * kMargin;
}

void PageWriter::add(Band band) {
    pending_.push_back(std::move(band));
    if (pending_.back().keepWithNext) return;
    place(pending_);
    pending_.clear();
}

void PageWriter::startNewPage() {
    place(pending_);
    pending_.clear();
    if (pageHasContent_) endPage();
}

void PageWriter::place(std::vector<Band>& group) {
    float total = 0;
    for (const Band& band : group) total += band.height;
    // A heading and what follows it go to the next page together, unless they would not fit
    // on any page.
    if (pageHasContent_ && y_ + total > kBodyHeight && total <= kBodyHeight) endPage();
    for (const Band& band : group) {
        if (band.spacing) {
            if (!pageHasContent_) continue;
            if (y_ + band.height > kBodyHeight) {
                endPage();
                continue;
            }
        } else if (pageHasContent_ && y_ + band.height > kBodyHeight) {
            endPage();
        }
        if (!pageHasContent_ && runningHeader_ && !band.spacing) {
            paint(*runningHeader_);
            y_ += runningHeader_->height;
        }
        pageOpen_ = true;
        if (!band.outline.isEmpty()) outline_.push_back({band.outline, pages_.size(), y_});
        paint(band);
        y_ += band.height;
        if (!band.spacing) pageHasContent_ = true;
    }
}

void PageWriter::paint(const Band& band) {
    for (const Fill& f : band.fills) {
        setFill(f.color);
        number(content_, kMargin + f.x);
        number(content_, pdfY(y_ + f.y + f.height));
        number(content_, f.width);
        number(content_, f.height);
        content_ += "re f\n";
    }
    for (const PlacedLine& line : band.lines) paintLine(line, y_);
    for (const Stroke& s : band.strokes) {
        content_ += "0.75 w ";
        number(content_, qRed(s.color) / 255.0);
        number(content_, qGreen(s.color) / 255.0);
        number(content_, qBlue(s.color) / 255.0);
        content_ += "RG ";
        number(content_, kMargin + s.x1);
        number(content_, pdfY(y_ + s.y1));
        content_ += "m ";
        number(content_, kMargin + s.x2);
        number(content_, pdfY(y_ + s.y2));
        content_ += "l S\n";
    }
}

void PageWriter::paintLine(const PlacedLine& placed, float top) {
    const Line& line = placed.line;
    const float lineTop = top + placed.y;
    for (const LineBox& box : line.backgrounds) {
        setFill(box.color);
        number(content_, kMargin + placed.x + box.x);
        number(content_, pdfY(lineTop + line.height()));
        number(content_, box.width);
        number(content_, line.height());
        content_ += "re f\n";
    }
    if (!line.runs.empty()) {
        content_ += "BT\n";
        const double baseline = pdfY(lineTop + line.ascent);
        for (const GlyphRun& run : line.runs) {
            setFill(run.color);
            const bool oneByte = run.face->outlines();
            if (run.xs.empty()) {
                // One Tm, then one show per font the codes are in (a Type 3 face spans several):
                // each show carries on where the last one ended.
                for (size_t from = 0; from < run.codes.size();) {
                    size_t to = run.codes.size();
                    if (oneByte) {
                        to = from + 1;
                        while (to < run.codes.size() && run.codes[to] / 256 == run.codes[from] / 256) ++to;
                    }
                    setFont(run.face->resourceName(run.codes[from]), run.size);
                    if (from == 0) {
                        content_ += "1 0 0 1 ";
                        number(content_, kMargin + placed.x + run.x);
                        number(content_, baseline);
                        content_ += "Tm";
                    }
                    appendCodes(content_, &run.codes[from], to - from, oneByte);
                    content_ += "Tj\n";
                    from = to;
                }
                continue;
            }
            for (size_t g = 0; g < run.codes.size(); ++g) {
                setFont(run.face->resourceName(run.codes[g]), run.size);
                content_ += "1 0 0 1 ";
                number(content_, kMargin + placed.x + run.xs[g]);
                number(content_, baseline + run.rises[g]);
                content_ += "Tm";
                appendCodes(content_, &run.codes[g], 1, oneByte);
                content_ += "Tj\n";
            }
        }
        content_ += "ET\n";
    }
    for (const LineBox& strike : line.strikes) {
        setFill(strike.color);
        number(content_, kMargin + placed.x + strike.x);
        number(content_, pdfY(lineTop + line.ascent) + line.ascent * 0.28);
        number(content_, strike.width);
        content_ += "0.6 re f\n";
    }
}

int PageWriter::writeOutline() {
    // One conversation needs no outline: its title is on the first page.
    if (outline_.size() < 2) return 0;
    const int root = file_.reserve();
    std::vector<int> items;
    for (size_t i = 0; i < outline_.size(); ++i) items.push_back(file_.reserve());
    for (size_t i = 0; i < outline_.size(); ++i) {
        const OutlineEntry& entry = outline_[i];
        file_.beginObject(items[i]);
        file_ << "<</Title" << textString(entry.title.left(500)) << "/Parent " << root << " 0 R";
        if (i > 0) file_ << "/Prev " << items[i - 1] << " 0 R";
        if (i + 1 < items.size()) file_ << "/Next " << items[i + 1] << " 0 R";
        QByteArray top;
        appendNumber(top, pdfY(entry.y));
        file_ << "/Dest[" << pages_[std::min(entry.page, pages_.size() - 1)] << " 0 R/XYZ 0 " << top << " null]>>";
        file_.endObject();
    }
    file_.beginObject(root);
    file_ << "<</Type/Outlines/First " << items.front() << " 0 R/Last " << items.back() << " 0 R/Count "
          << int(items.size()) << ">>";
    file_.endObject();
    return root;
}

void PageWriter::setFont(const QByteArray& name, float size) {
    if (name == fontName_ && size == fontSize_) return;
    content_ += name + ' ';
    number(content_, size);
    content_ += "Tf\n";
    fontName_ = name;
    fontSize_ = size;
}

void PageWriter::setFill(QRgb color) {
    if (color == fill_) return;
    fill_ = color;
    number(content_, qRed(color) / 255.0);
    number(content_, qGreen(color) / 255.0);
    number(content_, qBlue(color) / 255.0);
    content_ += "rg\n";
}

void PageWriter::endPage() {
    // The page number, centred in the bottom margin.
    const QString label = QString::number(pages_.size() + 1);
    const TextStyle style{FontSet::kSans, 8, 0xff656d76, false, false};
    std::vector<Line> lines = text_.layOut({{label, style}}, bodyWidth());
    if (!lines.empty()) {
        PlacedLine number{(bodyWidth() - lines.front().width) / 2, kBodyHeight + kMargin / 2 - 4,
                          std::move(lines.front())};
        paintLine(number, 0);
    }
    const int contents = file_.reserve();
    const int page = file_.reserve();
    file_.writeStream(contents, {}, content_);
    file_.beginObject(page);
    file_ << "<</Type/Page/Parent " << pageTree_ << " 0 R/MediaBox[0 0 595.28 841.89]/Resources "
          << fonts_.resourcesObject() << " 0 R/Contents " << contents << " 0 R>>";
    file_.endObject();
    pages_.push_back(page);
    content_.resize(0);
    y_ = 0;
    pageHasContent_ = false;
    pageOpen_ = false;
    fill_ = 0;
    fontName_.clear();
    fontSize_ = 0;
}

bool PageWriter::finish(const QString& title, const QString& creator) {
    place(pending_);
    pending_.clear();
    if (pageHasContent_ || pageOpen_ || pages_.empty()) endPage();
    fonts_.write();
    file_.beginObject(pageTree_);
    file_ << "<</Type/Pages/Count " << int(pages_.size()) << "/Kids[";
    for (size_t i = 0; i < pages_.size(); ++i) {
        file_ << pages_[i] << " 0 R ";
    }
    file_ << "]>>";
    file_.endObject();
    const int outline = writeOutline();
    const int catalog = file_.reserve();
    file_.beginObject(catalog);
    file_ << "<</Type/Catalog/Pages " << pageTree_ << " 0 R";
    if (outline != 0) file_ << "/Outlines " << outline << " 0 R/PageMode/UseOutlines";
    file_ << ">>";
    file_.endObject();
    const int info = file_.reserve();
    file_.beginObject(info);
    file_ << "<</Title" << textString(title) << "/Creator" << textString(creator) << "/Producer" << textString(creator)
          << ">>";
    file_.endObject();
    return file_.finish(catalog, info);
}

}  // namespace fm::pdf
