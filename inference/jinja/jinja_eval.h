#pragma once
// Renders a parsed chat template. Internal to the inference library.

#include <string>

#include "inference/jinja/jinja_parser.h"
#include "inference/jinja/jinja_value.h"

namespace fm::jinja {

// `variables` are the template's top-level names (messages, add_generation_prompt, ...); the
// globals of jinja_builtins (raise_exception, namespace, range, ...) are added beneath them.
// Throws TemplateError with the line and column of the failing node.
std::string render(const Template& tpl, const Dict& variables);

// The rendering and which of its bytes came from tainted (message) strings.
struct Rendered {
    std::string text;
    Taint taint;
};
Rendered render_with_provenance(const Template& tpl, const Dict& variables);

}  // namespace fm::jinja
