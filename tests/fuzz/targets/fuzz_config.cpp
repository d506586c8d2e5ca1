// config.json: ModelConfig::from_json_text never throws or crashes; a config it accepts has
// the sizes it checked.
#include <cstdlib>

#include "inference/checkpoint/config.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto config = fm::ModelConfig::from_json_text(std::string(fm::fuzz::as_text(data, size)), "config.json");
    if (config && (config->hidden_size <= 0 || config->num_layers <= 0 || config->conv_kernel < 2)) std::abort();
    return 0;
}
