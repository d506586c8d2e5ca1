// The JSON conversation import: parsing and validation never crash; a document that validates
// writes back (conversationsToJson) to a document that validates to the same conversations.
#include <cstdlib>

#include "app/export/json_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const QByteArray document(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    auto archives = fm::conversationsFromJson(document);
    if (!archives) return 0;
    const QByteArray again = fm::conversationsToJson(*archives, 0);
    auto reread = fm::conversationsFromJson(again);
    if (!reread || fm::conversationsToJson(*reread, 0) != again) std::abort();
    return 0;
}
