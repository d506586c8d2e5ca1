#pragma once
// The bytes of a PDF file, object by object, straight to a device: a header, numbered objects
// (streams compressed with zlib through qCompress), a cross-reference table and a trailer. An
// object's number can be reserved before it is written, so pages can point at the fonts and the
// page tree that are only written at the end. Output is buffered in large chunks: a long export
// writes millions of small pieces.

#include <QByteArray>
#include <QString>

#include <vector>

class QIODevice;

namespace fm::pdf {

class PdfFile {
public:
    explicit PdfFile(QIODevice& device);

    int reserve();  // a new object number, to be written later

    void beginObject(int number);
    PdfFile& operator<<(const QByteArray& bytes);
    PdfFile& operator<<(const char* text);
    PdfFile& operator<<(int number);
    PdfFile& operator<<(char ch);
    void endObject();

    // A whole stream object: `dictionary` is what goes inside << >> besides /Length and
    // /Filter. Data above a few hundred bytes is compressed.
    void writeStream(int number, const QByteArray& dictionary, const QByteArray& data);

    // The cross-reference table and the trailer; false when the device refused a write.
    bool finish(int catalog, int info);

private:
    void flush();

    QIODevice& device_;
    QByteArray buffer_;
    qint64 written_ = 0;  // bytes handed to the device before buffer_
    bool failed_ = false;
    std::vector<qint64> offsets_;  // by object number; -1 until written
};

// A number as PDF writes it: at most two decimals, no exponent, no trailing zeros.
void appendNumber(QByteArray& out, double value);
// A text string (titles, /ActualText): UTF-16BE with a byte order mark, as a hex string.
QByteArray textString(QStringView text);

}  // namespace fm::pdf
