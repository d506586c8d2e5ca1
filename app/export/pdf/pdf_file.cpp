#include "app/export/pdf/pdf_file.h"

#include <QIODevice>

#include <cmath>

namespace fm::pdf {
namespace {

constexpr qsizetype kFlushAt = 1 << 20;
constexpr qsizetype kCompressFrom = 256;

}  // namespace

PdfFile::PdfFile(QIODevice& device) : device_(device) {
    buffer_.reserve(kFlushAt + 4096);
    offsets_.push_back(0);  // object 0 is the head of the free list
    // The second line's bytes above 127 tell transfer tools the file is binary.
    buffer_ += "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n";
}

int PdfFile::reserve() {
    offsets_.push_back(-1);
    return int(offsets_.size() - 1);
}

void PdfFile::beginObject(int number) {
    offsets_[size_t(number)] = written_ + buffer_.size();
    *this << number << " 0 obj\n";
}

PdfFile& PdfFile::operator<<(const QByteArray& bytes) {
    buffer_ += bytes;
    if (buffer_.size() >= kFlushAt) flush();
    return *this;
}

PdfFile& PdfFile::operator<<(const char* text) {
    buffer_ += text;
    return *this;
}

PdfFile& PdfFile::operator<<(int number) {
    buffer_ += QByteArray::number(number);
    return *this;
}

PdfFile& PdfFile::operator<<(char ch) {
    buffer_ += ch;
    return *this;
}

void PdfFile::endObject() {
    buffer_ += "\nendobj\n";
    if (buffer_.size() >= kFlushAt) flush();
}

void PdfFile::writeStream(int number, const QByteArray& dictionary, const QByteArray& data) {
    beginObject(number);
    if (data.size() >= kCompressFrom) {
        // qCompress puts the uncompressed size (4 bytes) before a zlib stream: FlateDecode wants
        // the zlib stream alone. Level 1: a long export spends its time here otherwise, for files
        // only ~10% smaller.
        const QByteArray packed = qCompress(data, 1);
        const QByteArrayView zlib = QByteArrayView(packed).sliced(4);
        *this << "<<" << dictionary << "/Filter/FlateDecode/Length " << int(zlib.size()) << ">>\nstream\n";
        buffer_ += zlib;
    } else {
        *this << "<<" << dictionary << "/Length " << int(data.size()) << ">>\nstream\n";
        buffer_ += data;
    }
    buffer_ += "\nendstream";
    endObject();
}

bool PdfFile::finish(int catalog, int info) {
    const qint64 xref = written_ + buffer_.size();
    *this << "xref\n0 " << int(offsets_.size()) << "\n";
    buffer_ += "0000000000 65535 f \n";
    for (size_t i = 1; i < offsets_.size(); ++i) {
        // An object reserved and never written is listed as free, so readers never look for it.
        if (offsets_[i] < 0) {
            buffer_ += "0000000000 00000 f \n";
        } else {
            buffer_ += QByteArray::number(offsets_[i]).rightJustified(10, '0') + " 00000 n \n";
        }
        if (buffer_.size() >= kFlushAt) flush();
    }
    *this << "trailer\n<</Size " << int(offsets_.size()) << "/Root " << catalog << " 0 R/Info " << info
          << " 0 R>>\nstartxref\n";
    buffer_ += QByteArray::number(xref);
    buffer_ += "\n%%EOF\n";
    flush();
    return !failed_;
}

void PdfFile::flush() {
    if (buffer_.isEmpty()) return;
    if (!failed_ && device_.write(buffer_) != buffer_.size()) failed_ = true;
    written_ += buffer_.size();
    buffer_.resize(0);
}

void appendNumber(QByteArray& out, double value) {
    if (!std::isfinite(value)) value = 0;
    long long hundredths = std::llround(value * 100);
    char text[32];
    char* end = text + sizeof text;
    char* p = end;
    const bool negative = hundredths < 0;
    if (negative) hundredths = -hundredths;
    const int fraction = int(hundredths % 100);
    if (fraction != 0) {
        if (fraction % 10 != 0) *--p = char('0' + fraction % 10);
        *--p = char('0' + fraction / 10);
        *--p = '.';
    }
    long long whole = hundredths / 100;
    do {
        *--p = char('0' + whole % 10);
        whole /= 10;
    } while (whole > 0 && p > text + 1);
    if (negative) *--p = '-';
    out.append(p, end - p);
}

QByteArray textString(QStringView text) {
    static const char kHex[] = "0123456789ABCDEF";
    QByteArray out = "<FEFF";
    out.reserve(6 + text.size() * 4);
    for (QChar ch : text) {
        const char16_t u = ch.unicode();
        out += kHex[(u >> 12) & 15];
        out += kHex[(u >> 8) & 15];
        out += kHex[(u >> 4) & 15];
        out += kHex[u & 15];
    }
    out += '>';
    return out;
}

}  // namespace fm::pdf
