#pragma once
// Renders a parsed chat template. Internal to the inference library.

#include <ctime>
#include <functional>
#include <string>

#include "inference/jinja/jinja_parser.h"
#include "inference/jinja/jinja_value.h"

namespace fm::jinja {

// How one rendering runs.
struct RenderOptions {
    // Rendering fails as soon as it would hold more than this (MemoryBudget).
    size_t memory_budget = MemoryBudget::kDefaultLimit;
    // The local date and time strftime_now() formats; empty: the system clock, local time.
    // A seam, so tests (and reproducible renderings) can fix the date.
    std::function<std::tm()> now;
};

// `variables` are the template's top-level names (messages, add_generation_prompt, ...); the
// globals of jinja_builtins (raise_exception, namespace, range, ...) are added beneath them.
// Throws TemplateError with the line and column of the failing node.
// Rendering fails as soon as it would hold more than `memory_budget` bytes (MemoryBudget).
std::string render(const Template& tpl, const Dict& variables, size_t memory_budget = MemoryBudget::kDefaultLimit);
std::string render(const Template& tpl, const Dict& variables, const RenderOptions& options);

// The rendering, which of its bytes came from tainted (message) strings, and the most memory
// it held at once (as the budget counts it).
struct Rendered {
    std::string text;
    Taint taint;
    size_t peak_memory = 0;
};
Rendered render_with_provenance(const Template& tpl, const Dict& variables,
                                size_t memory_budget = MemoryBudget::kDefaultLimit);
Rendered render_with_provenance(const Template& tpl, const Dict& variables, const RenderOptions& options);
// The same with the caller's budget (which tells the peak even when rendering failed);
// options.memory_budget is not used.
Rendered render_with_provenance(const Template& tpl, const Dict& variables, MemoryBudget& budget,
                                const RenderOptions& options = {});

}  // namespace fm::jinja
