// Export round trip: conversations parsed from the input (the JSON import format) render in
// every text format without crashing, and the JSON export imports back to the same export.
#include <cstdlib>

#include "app/export/exporter.h"
#include "app/export/json_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const QByteArray document(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    auto archives = fm::conversationsFromJson(document);
    if (!archives) return 0;
    for (auto format : {fm::ExportFormat::Markdown, fm::ExportFormat::Html, fm::ExportFormat::PlainText}) {
        auto rendered = fm::renderExport(*archives, format);
        if (!rendered) std::abort();
    }
    auto json = fm::renderExport(*archives, fm::ExportFormat::Json);
    if (!json) std::abort();
    auto back = fm::conversationsFromJson(*json);
    if (!back) std::abort();
    return 0;
}
