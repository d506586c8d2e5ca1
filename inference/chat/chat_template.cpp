#include "inference/chat/chat_template.h"

#include <algorithm>
#include <exception>
#include <new>

#include "inference/jinja/jinja_eval.h"
#include "inference/jinja/jinja_parser.h"
#include "inference/jinja/jinja_value.h"

namespace fm {
namespace {

std::string located(const jinja::TemplateError& e) {
    if (e.user_raised) return e.message;
    if (e.line <= 0) return "chat template: " + e.message;
    return "chat template line " + std::to_string(e.line) + ", column " + std::to_string(e.column) + ": " + e.message;
}

jinja::RenderOptions options_of(const TemplateOptions& options) {
    jinja::RenderOptions o;
    o.now = options.now;
    return o;
}

// Runs one step of the interpreter (`doing`: "parsing" or "rendering") and turns whatever it
// throws into an error: the template's line and column where it has them.
template <typename F>
auto template_step(const char* doing, F&& step) -> Result<decltype(step())> {
    try {
        return step();
    } catch (const jinja::TemplateError& e) {
        return Error{located(e)};
    } catch (const std::bad_alloc&) {
        return Error{std::string("chat template: out of memory while ") + doing};
    } catch (const std::exception& e) {
        return Error{std::string("chat template: ") + e.what()};
    }
}

template <typename Json>
Result<std::string> render_json(const jinja::Template& tpl, const Json& context, const TemplateOptions& options) {
    if (!context.is_object()) return Error{"chat template: the render context must be a JSON object"};
    return template_step("rendering", [&] {
        jinja::Value vars = jinja::from_json(context);
        return jinja::render(tpl, vars.as_dict(), options_of(options));
    });
}

std::vector<RenderedPiece> pieces_of(const jinja::Rendered& r) {
    std::vector<RenderedPiece> pieces;
    auto add = [&](size_t begin, size_t end, bool untrusted) {
        if (begin < end) pieces.push_back({r.text.substr(begin, end - begin), untrusted});
    };
    size_t pos = 0;
    for (const auto& range : r.taint.ranges()) {
        add(pos, range.begin, false);
        add(range.begin, range.end, true);
        pos = range.end;
    }
    add(pos, r.text.size(), false);
    return pieces;
}

std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        const size_t slash = path.find('/', start);
        parts.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
        if (slash == std::string::npos) return parts;
        start = slash + 1;
    }
}

// Marks every string in v (values just made from the context, so not shared) as untrusted.
void taint_all(jinja::Value& v, int depth) {
    if (depth > 64) jinja::fail("the render context is nested too deeply");
    if (v.is_string()) {
        v = jinja::Value::text(v.as_string(), jinja::Taint::all(v.as_string().size()));
    } else if (v.is_list()) {
        for (auto& item : v.as_list().items) taint_all(item, depth + 1);
    } else if (v.is_dict()) {
        v.as_dict().tainted_keys = true;
        for (auto& kv : v.as_dict().items) taint_all(kv.second, depth + 1);
    }
}

void taint_path(jinja::Value& v, const std::vector<std::string>& parts, size_t i) {
    if (i == parts.size()) {
        taint_all(v, 0);
        return;
    }
    if (v.is_list() && parts[i] == "*") {
        for (auto& item : v.as_list().items) taint_path(item, parts, i + 1);
    } else if (v.is_dict()) {
        for (auto& [key, value] : v.as_dict().items)
            if (parts[i] == "*" || (key.is_string() && key.as_string() == parts[i])) taint_path(value, parts, i + 1);
    }
}

}  // namespace

Result<nlohmann::ordered_json> TemplateInput::context() const {
    if (!variables.is_object()) return Error{"chat template: the template variables must be a JSON object"};
    nlohmann::ordered_json context = variables;
    for (const char* name : {"messages", "add_generation_prompt", "tools", "documents"})
        if (context.contains(name))
            return Error{std::string("chat template: '") + name + "' is given twice (as a variable too)"};
    context["messages"] = messages;
    context["tools"] = tools;
    context["documents"] = documents;
    context["add_generation_prompt"] = add_generation_prompt;
    return context;
}

Result<std::vector<RenderedPiece>> ChatTemplate::render_pieces(const nlohmann::ordered_json& context,
                                                               const std::vector<std::string>& untrusted_paths,
                                                               const TemplateOptions& options) const {
    if (!context.is_object()) return Error{"chat template: the render context must be a JSON object"};
    return template_step("rendering", [&] {
        jinja::Value vars = jinja::from_json(context);
        for (const std::string& path : untrusted_paths) taint_path(vars, split_path(path), 0);
        return pieces_of(jinja::render_with_provenance(*tpl_, vars.as_dict(), options_of(options)));
    });
}

Result<ChatTemplate> ChatTemplate::parse(std::string source) {
    return template_step("parsing", [&] {
        auto tpl = jinja::parse_template(source);
        return ChatTemplate(std::move(source), std::move(tpl));
    });
}

Result<std::string> ChatTemplate::render(const nlohmann::json& context) const {
    return render_json(*tpl_, context, {});
}

Result<std::string> ChatTemplate::render_ordered(const nlohmann::ordered_json& context,
                                                 const TemplateOptions& options) const {
    return render_json(*tpl_, context, options);
}

Result<std::string> ChatTemplate::render(const TemplateInput& input, const TemplateOptions& options) const {
    auto context = input.context();
    if (!context) return Error{context.error()};
    return render_json(*tpl_, *context, options);
}

}  // namespace fm
