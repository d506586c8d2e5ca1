#pragma once
// Renders a parsed chat template. Internal to the inference library.

#include <string>

#include "inference/jinja/jinja_parser.h"
#include "inference/jinja/jinja_value.h"

namespace fm::jinja {

// `variables` are the template's top-level names (messages, add_generation_prompt, ...); the
// globals of jinja_builtins (raise_exception, namespace, range, ...) are added beneath them.
// Throws TemplateError with the line and column of the failing node.
// Rendering fails as soon as it would hold more than `memory_budget` bytes (MemoryBudget).
std::string render(const Template& tpl, const Dict& variables, size_t memory_budget = MemoryBudget::kDefaultLimit);

// The rendering, which of its bytes came from tainted (message) strings, and the most memory
// it held at once (as the budget counts it).
struct Rendered {
    std::string text;
    Taint taint;
    size_t peak_memory = 0;
};
Rendered render_with_provenance(const Template& tpl, const Dict& variables,
                                size_t memory_budget = MemoryBudget::kDefaultLimit);
// The same with the caller's budget (which tells the peak even when rendering failed).
Rendered render_with_provenance(const Template& tpl, const Dict& variables, MemoryBudget& budget);

}  // namespace fm::jinja
