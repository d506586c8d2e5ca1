// tokenize, detokenize, render, generate, chat: the commands that turn text into tokens and back.

#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/cli/cli.h"
#include "app/cli/model_loading.h"
#include "inference/chat/chat_format.h"
#include "inference/checkpoint/config.h"
#include "inference/core/json_reader.h"
#include "inference/session/generation.h"
#include "inference/session/snapshot_file.h"
#include "inference/text/tokenizer.h"

namespace fm::cli {
namespace {

using json = nlohmann::json;

Result<std::string> read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{path + ": cannot open"};
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

Result<std::unique_ptr<Tokenizer>> tokenizer_from_args(const Args& args) {
    if (args.has("--tokenizer")) return Tokenizer::load_file(args.get("--tokenizer"));
    if (args.has("--model")) return Tokenizer::load_from_dir(args.get("--model"));
    return Error{"give --tokenizer FILE or --model DIR"};
}

Result<GenerationParams> params_from_args(const Args& args) {
    GenerationParams p;
    auto n = args.get_int("-n", 128);
    auto temp = args.get_double("--temp", 0.7);
    auto top_k = args.get_int("--top-k", 40);
    auto top_p = args.get_double("--top-p", 0.95);
    auto min_p = args.get_double("--min-p", 0.05);
    auto rep = args.get_double("--repeat-penalty", 1.0);
    auto seed = args.get_int("--seed", 0);
    for (const auto* r : {&n, &top_k, &seed})
        if (!*r) return Error{r->error()};
    for (const auto* r : {&temp, &top_p, &min_p, &rep})
        if (!*r) return Error{r->error()};
    if (*n < 0) return Error{"-n must not be negative"};
    p.max_new_tokens = static_cast<int32_t>(*n);
    p.sampling.temperature = static_cast<float>(*temp);
    p.sampling.top_k = static_cast<int32_t>(*top_k);
    p.sampling.top_p = static_cast<float>(*top_p);
    p.sampling.min_p = static_cast<float>(*min_p);
    p.sampling.repeat_penalty = static_cast<float>(*rep);
    p.sampling.seed = static_cast<uint64_t>(*seed);
    return p;
}

// --load-state: the snapshot must come from this checkpoint, weight format and backend numerics.
Result<StoredSnapshot> load_state_for(const std::string& path, const Backend& backend) {
    auto stored = load_snapshot_file(path);
    if (!stored) return Error{stored.error()};
    const std::string expected = snapshot_fingerprint(backend);
    if (stored->fingerprint != expected)
        return Error{path + ": this state was saved by another model, weight format or backend (" +
                     stored->fingerprint + ", this run is " + expected + ")"};
    return stored;
}

Status save_state(const std::string& path, const GenerationSession& session, const Backend& backend,
                  const std::string& metadata = {}) {
    return save_snapshot_file(path, {snapshot_fingerprint(backend), session.snapshot(), metadata});
}

// The conversation a chat state's metadata holds ({"messages": [{"role", "content"}, ...]}):
// any other shape is an error naming the file and the JSON path, never an exception.
Result<std::vector<ChatMessage>> chat_state_messages(const std::string& metadata, const std::string& file) {
    auto saved = parse_json(metadata, file + ": metadata");
    if (!saved) return Error{saved.error()};
    auto list = saved->is_object() ? saved->find("messages") : saved->end();
    if (!saved->is_object() || list == saved->end())
        return Error{file + ": not a chat state (its metadata has no \"messages\")"};
    if (!list->is_array()) return Error{file + ": metadata: messages must be a list, not " + json_kind(*list)};
    std::vector<ChatMessage> messages;
    for (size_t i = 0; i < list->size(); ++i) {
        const std::string at = "messages[" + std::to_string(i) + "]";
        const json& m = (*list)[i];
        if (!m.is_object()) return Error{file + ": metadata: " + at + " must be an object, not " + json_kind(m)};
        auto role = json_string(m, "role", file + ": metadata", at);
        if (!role) return Error{role.error()};
        auto content = json_string(m, "content", file + ": metadata", at);
        if (!content) return Error{content.error()};
        messages.push_back({role->value_or(""), content->value_or("")});
    }
    return messages;
}

}  // namespace

int cmd_tokenize(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    auto args = Args::parse(argv, {"--parse-special"}, {"--tokenizer", "--model", "--text", "--text-file"});
    if (!args) return fail(err, "tokenize", args.error());
    std::string text;
    if (args->has("--text"))
        text = args->get("--text");
    else if (args->has("--text-file")) {
        auto t = read_text_file(args->get("--text-file"));
        if (!t) return fail(err, "tokenize", t.error());
        text = *t;
    } else
        return fail(err, "tokenize", "give --text S or --text-file F");
    auto tok = tokenizer_from_args(*args);
    if (!tok) return fail(err, "tokenize", tok.error());
    auto ids = (*tok)->encode(text, args->has("--parse-special"));
    if (!ids) return fail(err, "tokenize", ids.error());
    out << json(*ids).dump() << "\n";
    return 0;
}

int cmd_detokenize(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    auto args = Args::parse(argv, {"--skip-special"}, {"--tokenizer", "--model", "--ids"});
    if (!args) return fail(err, "detokenize", args.error());
    auto ids = args->get_ids("--ids");
    if (!ids) return fail(err, "detokenize", ids.error());
    auto tok = tokenizer_from_args(*args);
    if (!tok) return fail(err, "detokenize", tok.error());
    for (int32_t id : *ids)
        if (id >= (*tok)->vocab_size())
            return fail(err, "detokenize", "id " + std::to_string(id) + " is outside the vocabulary");
    out << (*tok)->decode(*ids, args->has("--skip-special"));
    return 0;
}

int cmd_render(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    auto args = Args::parse(argv, {"--add-generation-prompt"}, {"--model", "--messages"});
    if (!args) return fail(err, "render", args.error());
    if (!args->has("--model") || !args->has("--messages"))
        return fail(err, "render", "give --model DIR and --messages FILE.json");
    auto text = read_text_file(args->get("--messages"));
    if (!text) return fail(err, "render", text.error());
    auto parsed = parse_json(*text, args->get("--messages"));
    if (!parsed) return fail(err, "render", parsed.error());
    const json j = std::move(*parsed);
    if (!j.is_array())
        return fail(err, "render", args->get("--messages") + ": expected a JSON list of {\"role\", \"content\"}");
    std::vector<ChatMessage> messages;
    for (const auto& m : j) {
        if (!m.is_object() || !m.contains("role") || !m.contains("content") || !m["role"].is_string() ||
            !m["content"].is_string())
            return fail(err, "render",
                        args->get("--messages") + ": every message needs string \"role\" and \"content\"");
        messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    }
    auto side = load_model_text(args->get("--model"), TokenizerPolicy::Required);
    if (!side) return fail(err, "render", side.error());
    auto rendered = side->format->render(messages, args->has("--add-generation-prompt"));
    if (!rendered) return fail(err, "render", rendered.error());
    out << *rendered;
    return 0;
}

int cmd_generate(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    auto args =
        Args::parse(argv, with(kModelFlags, {"--print-ids", "--chat"}),
                    with(kModelOptions, {"-p", "--prompt-tokens", "-n", "--temp", "--top-k", "--top-p", "--min-p",
                                         "--repeat-penalty", "--seed", "--save-state", "--load-state"}));
    if (!args) return fail(err, "generate", args.error());
    if (args->has("-p") == args->has("--prompt-tokens"))
        return fail(err, "generate", "give either -p TEXT or --prompt-tokens 1,2,3");
    auto params = params_from_args(*args);
    if (!params) return fail(err, "generate", params.error());
    auto model = load_model(*args, err, args->has("-p") ? TokenizerPolicy::Required : TokenizerPolicy::IfPresent);
    if (!model) return fail(err, "generate", model.error());
    auto session_ptr = (*model)->new_session();
    GenerationSession& session = *session_ptr;
    std::vector<int32_t> context;  // with --load-state: the tokens the saved state has read
    if (args->has("--load-state")) {
        auto stored = load_state_for(args->get("--load-state"), (*model)->backend());
        if (!stored) return fail(err, "generate", stored.error());
        if (auto st = session.restore(stored->snapshot); !st) return fail(err, "generate", st.error());
        context = stored->snapshot.tokens;
    }

    GenerationCallbacks callbacks;
    callbacks.on_token = [&](int32_t, const std::string& text) { out << text << std::flush; };
    Result<GenerationResult> result = Error{""};
    if (args->has("-p") && args->has("--chat")) {
        if (args->has("--load-state"))
            return fail(err, "generate", "--chat cannot continue a saved state; use chat --load-state");
        result = session.reply({{"user", args->get("-p")}}, *params, callbacks);
    } else {
        // The new prompt continues whatever the loaded state has read.
        std::vector<int32_t> prompt = context;
        Result<std::vector<int32_t>> ids =
            args->has("-p") ? (*model)->tokenizer()->encode(args->get("-p"), false) : args->get_ids("--prompt-tokens");
        if (!ids) return fail(err, "generate", ids.error());
        prompt.insert(prompt.end(), ids->begin(), ids->end());
        result = session.complete(prompt, *params, callbacks);
    }
    if (!result) return fail(err, "generate", result.error());
    if (args->has("--print-ids"))
        out << "\n" << json(result->tokens).dump() << "\n";
    else
        out << "\n";
    if (args->has("--save-state"))
        if (auto st = save_state(args->get("--save-state"), session, (*model)->backend()); !st)
            return fail(err, "generate", st.error());
    err << json{{"prompt_tokens", result->prompt_tokens},
                {"prefilled_tokens", result->prefilled_tokens},
                {"generated_tokens", result->tokens.size()},
                {"stop_reason", stop_reason_name(result->stop_reason)},
                {"prefill_tokens_per_second", result->prefill_tokens_per_second()},
                {"decode_tokens_per_second", result->decode_tokens_per_second()}}
               .dump()
        << "\n";
    return 0;
}

int cmd_chat(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err, std::istream& in) {
    auto args = Args::parse(argv, kModelFlags,
                            with(kModelOptions, {"--system", "-n", "--temp", "--top-k", "--top-p", "--min-p",
                                                 "--repeat-penalty", "--seed", "--save-state", "--load-state"}));
    if (!args) return fail(err, "chat", args.error());
    auto params = params_from_args(*args);
    if (!params) return fail(err, "chat", params.error());
    if (!args->has("-n")) params->max_new_tokens = 512;
    auto model = load_model(*args, err, TokenizerPolicy::Required);
    if (!model) return fail(err, "chat", model.error());
    auto session_ptr = (*model)->new_session();
    GenerationSession& session = *session_ptr;
    const bool chat_mode = (*model)->chat_format()->mode() != ChatMode::Completion;

    std::vector<ChatMessage> history;
    std::vector<int32_t> completion_tokens;  // completion mode: the whole text so far
    if (args->has("--load-state")) {
        // The saved state carries the conversation it has read, so chatting resumes at once.
        auto stored = load_state_for(args->get("--load-state"), (*model)->backend());
        if (!stored) return fail(err, "chat", stored.error());
        auto saved = chat_state_messages(stored->metadata, args->get("--load-state"));
        if (!saved) return fail(err, "chat", saved.error());
        history = std::move(*saved);
        completion_tokens = stored->snapshot.tokens;
        if (auto st = session.restore(stored->snapshot); !st) return fail(err, "chat", st.error());
        err << "Resumed a conversation of " << history.size() << " messages (" << stored->snapshot.tokens.size()
            << " tokens) without reading it again.\n";
    } else if (args->has("--system")) {
        history.push_back({"system", args->get("--system")});
    }
    auto save = [&]() -> Status {
        if (!args->has("--save-state")) return {};
        json messages = json::array();
        for (const auto& m : history) messages.push_back({{"role", m.role}, {"content", m.content}});
        return save_state(args->get("--save-state"), session, (*model)->backend(), json{{"messages", messages}}.dump());
    };
    err << "Chatting with " << args->get("--model") << " on " << (*model)->backend().name()
        << (chat_mode ? "" : " (plain completion: this model has no chat template)") << ". End with Ctrl+D.\n";
    std::string line;
    while (true) {
        out << "> " << std::flush;
        if (!std::getline(in, line)) break;
        if (line.empty()) continue;
        GenerationCallbacks callbacks;
        callbacks.on_token = [&](int32_t, const std::string& text) { out << text << std::flush; };
        Result<GenerationResult> result = Error{""};
        if (chat_mode) {
            history.push_back({"user", line});
            result = session.reply(history, *params, callbacks);
        } else {
            auto ids = (*model)->tokenizer()->encode(line + "\n", false);
            if (!ids) return fail(err, "chat", ids.error());
            completion_tokens.insert(completion_tokens.end(), ids->begin(), ids->end());
            result = session.complete(completion_tokens, *params, callbacks);
        }
        if (!result) return fail(err, "chat", result.error());
        out << "\n";
        if (chat_mode)
            history.push_back({"assistant", result->text});
        else
            completion_tokens.insert(completion_tokens.end(), result->tokens.begin(), result->tokens.end());
        err << "[prefilled " << result->prefilled_tokens << " new tokens of " << result->prompt_tokens << "; "
            << result->tokens.size() << " generated at " << static_cast<int>(result->decode_tokens_per_second())
            << " tokens/s" << (result->restarted ? "; restarted: " + result->restart_reason : std::string()) << "]\n";
        if (auto st = save(); !st) return fail(err, "chat", st.error());  // after every turn: a kill loses nothing
    }
    return 0;
}

}  // namespace fm::cli
