// tokenizer.json: loading never throws or crashes; a tokenizer that loads encodes and decodes
// text (with and without special tokens) without crashing, and every id it makes decodes.
#include <cstdlib>

#include "inference/text/bpe_tokenizer.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto tok = fm::BpeTokenizer::from_json_text(fm::fuzz::as_text(data, size), "tokenizer.json");
    if (!tok) return 0;
    for (bool special : {false, true}) {
        auto ids = (*tok)->encode("Hello <|im_end|> wörld 123 \n\t😀", special);
        if (!ids) continue;
        for (int32_t id : *ids)
            if (id < 0 || id >= (*tok)->vocab_size()) std::abort();
        (void)(*tok)->decode(*ids, false);
    }
    return 0;
}
