#include "inference/text/chat_template.h"

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

template <typename Json>
Result<std::string> render_json(const jinja::Template& tpl, const Json& context) {
    if (!context.is_object()) return Error{"chat template: the render context must be a JSON object"};
    try {
        jinja::Value vars = jinja::from_json(context);
        return jinja::render(tpl, vars.as_dict());
    } catch (const jinja::TemplateError& e) {
        return Error{located(e)};
    } catch (const std::bad_alloc&) {
        return Error{"chat template: out of memory while rendering"};
    } catch (const std::exception& e) {
        return Error{std::string("chat template: ") + e.what()};
    }
}

}  // namespace

Result<ChatTemplate> ChatTemplate::parse(std::string source) {
    try {
        auto tpl = jinja::parse_template(source);
        return ChatTemplate(std::move(source), std::move(tpl));
    } catch (const jinja::TemplateError& e) {
        return Error{located(e)};
    } catch (const std::bad_alloc&) {
        return Error{"chat template: out of memory while parsing"};
    } catch (const std::exception& e) {
        return Error{std::string("chat template: ") + e.what()};
    }
}

Result<std::string> ChatTemplate::render(const nlohmann::json& context) const {
    return render_json(*tpl_, context);
}

Result<std::string> ChatTemplate::render_ordered(const nlohmann::ordered_json& context) const {
    return render_json(*tpl_, context);
}

}  // namespace fm
