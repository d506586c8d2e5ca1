#pragma once
// OpenAI request bodies turned into what the engine runs. Pure functions of the body text, so
// every rule here is tested (and fuzzed) without a socket or a model. A body that breaks a rule
// gets an ApiError naming the parameter at fault; unknown parameters are ignored, as OpenAI
// clients expect.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inference/chat/chat_format.h"
#include "inference/session/generation.h"

namespace fm::server {

// OpenAI's error object: {"error": {"message", "type", "param", "code"}} with an HTTP status.
struct ApiError {
    int status = 400;
    std::string message;
    std::string param;  // the request parameter at fault, empty when none
    std::string type = "invalid_request_error";
    std::string code;
};
std::string error_body(const ApiError& error);

enum class Endpoint { ChatCompletions, Completions };

struct RequestLimits {
    int32_t max_tokens_cap = 4096;      // larger max_tokens are clamped to this
    int32_t default_max_tokens = 1024;  // when the request gives none
    size_t max_stop_strings = 4;
};

struct CompletionRequest {
    Endpoint endpoint = Endpoint::ChatCompletions;
    std::string model;                  // echoed back; the server serves one model
    std::vector<ChatMessage> messages;  // chat: roles system/user/assistant, in order
    std::string prompt;                 // completions: the raw text
    GenerationParams params;
    bool stream = false;
    bool include_usage = false;  // stream_options.include_usage
    bool seeded = false;         // the request gave a seed (otherwise params hold a random one)
};

struct ParsedRequest {
    std::optional<CompletionRequest> request;
    ApiError error;  // meaningful when request is empty
};

// `random_seed` is used when the body has no seed (the caller draws it, so parsing stays pure).
ParsedRequest parse_completion_request(std::string_view body, Endpoint endpoint, const RequestLimits& limits,
                                       uint64_t random_seed);

}  // namespace fm::server
