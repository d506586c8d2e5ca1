// API server request bodies: parse_completion_request never throws or crashes, and what it
// accepts keeps the limits it promises (max_tokens within the cap, at most max_stop_strings
// stop strings, chat requests with messages).
#include <cstdlib>

#include "app/server/api_request.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view body = fm::fuzz::as_text(data, size);
    fm::server::RequestLimits limits;
    for (auto endpoint : {fm::server::Endpoint::ChatCompletions, fm::server::Endpoint::Completions}) {
        const fm::server::ParsedRequest parsed = fm::server::parse_completion_request(body, endpoint, limits, 42);
        if (!parsed.request) {
            if (parsed.error.message.empty() || parsed.error.status < 400) std::abort();
            continue;
        }
        const fm::server::CompletionRequest& r = *parsed.request;
        if (r.params.max_new_tokens > limits.max_tokens_cap || r.params.max_new_tokens < 0) std::abort();
        if (r.params.stop_strings.size() > limits.max_stop_strings) std::abort();
        if (endpoint == fm::server::Endpoint::ChatCompletions && r.messages.empty()) std::abort();
    }
    return 0;
}
