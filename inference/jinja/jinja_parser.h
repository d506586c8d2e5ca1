#pragma once
// The syntax tree of a chat template and the parser that builds it from jinja_lexer's tokens.
// Internal to the inference library.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "inference/jinja/jinja_value.h"

namespace fm::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
    enum class Kind {
        Literal,  // value
        Name,     // name
        List,     // children: items
        Tuple,    // children: items
        Dict,     // children: key0, value0, key1, value1, ...
        GetAttr,  // children[0] . name
        GetItem,  // children[0] [ children[1] ]
        Slice,    // children[0] [ children[1] : children[2] : children[3] ] (null: omitted)
        Call,     // children[0] ( children[1..], kwargs )
        Filter,   // children[0] | name ( children[1..], kwargs )
        Test,     // children[0] is [not] name ( children[1..], kwargs )
        Neg,      // - children[0]
        Pos,      // + children[0]
        Not,      // not children[0]
        Binary,   // children[0] name children[1]; name: + - * / // % **
        Compare,  // children[0] ops[0] children[1] ops[1] ...; ops: == != < <= > >= in notin
        And,
        Or,
        CondExpr,    // children[0] if children[1] else children[2] (null: no else)
        Concat,      // children[0] ~ children[1] ~ ...
        BlockInput,  // the rendered body of the filter block or set block being filtered
    };
    Kind kind = Kind::Literal;
    int line = 0;
    int column = 0;
    Value value;
    std::string name;
    std::vector<ExprPtr> children;
    std::vector<std::string> ops;
    std::vector<std::pair<std::string, ExprPtr>> kwargs;
    bool negated = false;
    int height = 1;  // of this subtree; bounded so evaluation cannot recurse without limit
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
    enum class Kind {
        Text,      // text
        Output,    // {{ expr }}
        If,        // conditions[i] -> bodies[i]; one more body than conditions: the else branch
        For,       // for targets in expr [if filter]: body [else: else_body]
        Set,       // set targets = expr, or set targets[0].text = expr when set_attr
        SetBlock,  // set targets[0] %}body{% endset
        Macro,     // macro text(targets = defaults) body
        Break,
        Continue,
        Scope,        // {% generation %}body{% endgeneration %}: renders body
        FilterBlock,  // {% filter expr %}body{% endfilter %}: expr is a filter chain on a BlockInput
        CallBlock,    // {% call(targets = defaults) expr %}body{% endcall %}: expr is a call; body is `caller`
        With,         // {% with targets[i] = conditions[i], ... %}body{% endwith %}: a scope with those names
    };
    Kind kind = Kind::Text;
    int line = 0;
    int column = 0;
    std::string text;
    std::vector<std::string> targets;
    ExprPtr expr;
    ExprPtr filter;
    std::vector<ExprPtr> conditions;
    std::vector<Body> bodies;
    Body body;
    Body else_body;
    std::vector<ExprPtr> defaults;  // Macro, CallBlock: one per parameter, null where required
    bool set_attr = false;
    bool recursive = false;  // For: `loop(items)` renders the loop again (a recursive loop)
    // Macro: whether its body reads `caller`, `varargs` or `kwargs` (Jinja2 then accepts a
    // caller, extra positional or extra keyword arguments).
    bool uses_caller = false;
    bool uses_varargs = false;
    bool uses_kwargs = false;
};

struct Template {
    Body body;
};

// Throws TemplateError with the line and column of the offending token.
std::shared_ptr<const Template> parse_template(std::string_view source);

}  // namespace fm::jinja
