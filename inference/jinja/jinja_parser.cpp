#include "inference/jinja/jinja_parser.h"

#include <algorithm>
#include <initializer_list>

#include "inference/jinja/jinja_builtins.h"
#include "inference/jinja/jinja_lexer.h"

namespace fm::jinja {
namespace {

constexpr int kMaxDepth = 200;
constexpr int kMaxHeight = 400;

std::string describe(const Token& t) {
    switch (t.kind) {
    case TokenKind::Text: return "template text";
    case TokenKind::VarBegin: return "'{{'";
    case TokenKind::VarEnd: return "'}}'";
    case TokenKind::BlockBegin: return "'{%'";
    case TokenKind::BlockEnd: return "'%}'";
    case TokenKind::Name: return "'" + t.text + "'";
    case TokenKind::String: return "string literal";
    case TokenKind::Integer:
    case TokenKind::Float: return "number " + t.text;
    case TokenKind::Operator: return "'" + t.text + "'";
    case TokenKind::End: return "end of template";
    }
    return "token";
}

class Parser {
public:
    explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

    std::shared_ptr<const Template> run() {
        auto tpl = std::make_shared<Template>();
        tpl->body = parse_body({}, nullptr);
        return tpl;
    }

private:
    // ---- token helpers ----
    const Token& cur() const { return toks_[pos_]; }
    const Token& peek(size_t ahead = 1) const { return toks_[std::min(pos_ + ahead, toks_.size() - 1)]; }
    const Token& next() {
        const Token& t = toks_[pos_];
        if (pos_ + 1 < toks_.size()) ++pos_;
        return t;
    }
    bool is_op(const char* op) const { return cur().kind == TokenKind::Operator && cur().text == op; }
    bool is_name(const char* name) const { return cur().kind == TokenKind::Name && cur().text == name; }
    bool skip_op(const char* op) {
        if (!is_op(op)) return false;
        next();
        return true;
    }
    bool skip_name(const char* name) {
        if (!is_name(name)) return false;
        next();
        return true;
    }
    [[noreturn]] void error(const Token& at, std::string message) const {
        throw TemplateError{std::move(message), at.line, at.column};
    }
    void expect_op(const char* op) {
        if (!skip_op(op)) error(cur(), std::string("expected '") + op + "', found " + describe(cur()));
    }
    std::string expect_name(const char* what) {
        if (cur().kind != TokenKind::Name) error(cur(), std::string("expected ") + what + ", found " + describe(cur()));
        return next().text;
    }
    void expect_block_end(const char* tag) {
        if (cur().kind != TokenKind::BlockEnd)
            error(cur(), std::string("expected '%}' to end '") + tag + "', found " + describe(cur()));
        next();
    }
    template <typename T>
    std::unique_ptr<T> node(typename T::Kind kind, const Token& at) {
        auto n = std::make_unique<T>();
        n->kind = kind;
        n->line = at.line;
        n->column = at.column;
        return n;
    }
    struct DepthGuard {
        Parser& p;
        DepthGuard(Parser& parser, const Token& at) : p(parser) {
            if (++p.depth_ > kMaxDepth) p.error(at, "template nested too deeply");
        }
        ~DepthGuard() { --p.depth_; }
    };

    // Records a node's height and refuses trees too tall to evaluate recursively.
    ExprPtr grown(ExprPtr e) {
        int h = 0;
        for (const auto& c : e->children)
            if (c) h = std::max(h, c->height);
        for (const auto& [k, v] : e->kwargs) h = std::max(h, v->height);
        e->height = h + 1;
        if (e->height > kMaxHeight) throw TemplateError{"expression nested too deeply", e->line, e->column};
        return e;
    }

    // ---- statements ----

    // Parses until a `{% name %}` with name in `ends` (left unconsumed, its name in *found).
    Body parse_body(std::initializer_list<const char*> ends, const Token* opener, std::string* found = nullptr) {
        DepthGuard guard(*this, cur());
        Body body;
        for (;;) {
            const Token& t = cur();
            switch (t.kind) {
            case TokenKind::Text: {
                auto s = node<Stmt>(Stmt::Kind::Text, t);
                s->text = next().text;
                body.push_back(std::move(s));
                break;
            }
            case TokenKind::VarBegin: {
                auto s = node<Stmt>(Stmt::Kind::Output, t);
                next();
                s->expr = parse_tuple(true);
                if (cur().kind != TokenKind::VarEnd) error(cur(), "expected '}}', found " + describe(cur()));
                next();
                body.push_back(std::move(s));
                break;
            }
            case TokenKind::BlockBegin: {
                const Token& name = peek();
                if (name.kind != TokenKind::Name)
                    error(name, "expected a tag name after '{%', found " + describe(name));
                for (const char* e : ends) {
                    if (name.text == e) {
                        if (found) *found = e;
                        next();
                        next();
                        return body;
                    }
                }
                next();
                body.push_back(parse_statement(t));
                break;
            }
            case TokenKind::End: {
                if (!opener) return body;
                std::string expected;
                for (const char* e : ends) expected += std::string(expected.empty() ? "'" : " or '") + e + "'";
                error(t, "unexpected end of template: the tag at line " + std::to_string(opener->line) + ", column " +
                             std::to_string(opener->column) + " is not closed (expected " + expected + ")");
            }
            default: error(t, "unexpected " + describe(t));
            }
        }
    }

    StmtPtr parse_statement(const Token& open) {
        const Token& tag = next();
        const std::string& n = tag.text;
        if (n == "if") return parse_if(open);
        if (n == "for") return parse_for(open);
        if (n == "set") return parse_set(open);
        if (n == "macro") return parse_macro(open);
        if (n == "break" || n == "continue") {
            if (loop_depth_ == 0) error(tag, "'" + n + "' outside of a loop");
            auto s = node<Stmt>(n == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue, open);
            expect_block_end(n.c_str());
            return s;
        }
        if (n == "filter") return parse_filter_block(open);
        if (n == "call") return parse_call_block(open);
        if (n == "with") return parse_with(open);
        if (n == "generation") {
            auto s = node<Stmt>(Stmt::Kind::Scope, open);
            expect_block_end("generation");
            s->body = parse_body({"endgeneration"}, &open);
            expect_block_end("endgeneration");
            return s;
        }
        static const char* const enders[] = {"endif",         "endfor", "else",      "elif",    "endset", "endmacro",
                                             "endgeneration", "endraw", "endfilter", "endcall", "endwith"};
        for (const char* e : enders)
            if (n == e) error(tag, "unexpected '{% " + n + " %}' with no open tag it could close");
        error(tag, "unknown tag '" + n + "'");
    }

    StmtPtr parse_if(const Token& open) {
        auto s = node<Stmt>(Stmt::Kind::If, open);
        s->conditions.push_back(parse_expression(false));
        expect_block_end("if");
        for (;;) {
            std::string found;
            s->bodies.push_back(parse_body({"elif", "else", "endif"}, &open, &found));
            if (found == "elif") {
                s->conditions.push_back(parse_expression(false));
                expect_block_end("elif");
            } else if (found == "else") {
                expect_block_end("else");
                s->bodies.push_back(parse_body({"endif"}, &open));
                expect_block_end("endif");
                return s;
            } else {
                expect_block_end("endif");
                return s;
            }
        }
    }

    std::vector<std::string> parse_targets(const char* what) {
        std::vector<std::string> names;
        bool paren = skip_op("(");
        do {
            if (paren && is_op(")")) break;
            names.push_back(expect_name(what));
        } while (skip_op(","));
        if (paren) expect_op(")");
        return names;
    }

    StmtPtr parse_for(const Token& open) {
        auto s = node<Stmt>(Stmt::Kind::For, open);
        s->targets = parse_targets("a loop variable name");
        if (!skip_name("in")) error(cur(), "expected 'in' in the for tag, found " + describe(cur()));
        s->expr = parse_tuple(false);
        if (skip_name("if")) s->filter = parse_expression(true);
        s->recursive = skip_name("recursive");
        expect_block_end("for");
        ++loop_depth_;
        std::string found;
        s->body = parse_body({"else", "endfor"}, &open, &found);
        --loop_depth_;
        if (found == "else") {
            expect_block_end("else");
            s->else_body = parse_body({"endfor"}, &open);
        }
        expect_block_end("endfor");
        return s;
    }

    StmtPtr parse_set(const Token& open) {
        auto s = node<Stmt>(Stmt::Kind::Set, open);
        if (cur().kind == TokenKind::Name && peek().kind == TokenKind::Operator && peek().text == ".") {
            s->targets.push_back(next().text);
            next();
            s->text = expect_name("an attribute name");
            s->set_attr = true;
        } else {
            s->targets = parse_targets("a variable name");
        }
        if (skip_op("=")) {
            s->expr = parse_tuple(true);
            expect_block_end("set");
            return s;
        }
        if (s->set_attr || s->targets.size() != 1 || (cur().kind != TokenKind::BlockEnd && !is_op("|")))
            error(cur(), "expected '=' in the set tag, found " + describe(cur()));
        if (is_op("|")) s->expr = parse_filter_chain(node<Expr>(Expr::Kind::BlockInput, cur()), false);
        expect_block_end("set");
        s->kind = Stmt::Kind::SetBlock;
        s->body = parse_body({"endset"}, &open);
        expect_block_end("endset");
        return s;
    }

    // (a, b=default, ...): a macro's or a call block's parameters.
    void parse_signature(Stmt& s) {
        expect_op("(");
        while (!is_op(")")) {
            if (!s.targets.empty()) expect_op(",");
            if (is_op(")")) break;
            s.targets.push_back(expect_name("a parameter name"));
            if (skip_op("="))
                s.defaults.push_back(parse_expression(true));
            else if (!s.defaults.empty() && s.defaults.back())
                error(cur(), "non-default argument follows default argument");
            else
                s.defaults.push_back(nullptr);
        }
        expect_op(")");
    }

    // A macro-like body (macro, caller): loops outside it cannot be broken from inside.
    Body parse_function_body(const char* end, const Token& open) {
        int saved_loops = loop_depth_;
        loop_depth_ = 0;
        Body body = parse_body({end}, &open);
        loop_depth_ = saved_loops;
        expect_block_end(end);
        return body;
    }

    StmtPtr parse_macro(const Token& open) {
        auto s = node<Stmt>(Stmt::Kind::Macro, open);
        s->text = expect_name("a macro name");
        parse_signature(*s);
        expect_block_end("macro");
        s->body = parse_function_body("endmacro", open);
        auto declared = [&](const char* name) {
            return std::find(s->targets.begin(), s->targets.end(), name) != s->targets.end();
        };
        s->uses_caller = !declared("caller") && references(s->body, "caller");
        s->uses_varargs = !declared("varargs") && references(s->body, "varargs");
        s->uses_kwargs = !declared("kwargs") && references(s->body, "kwargs");
        return s;
    }

    // {% filter f(args)|g %}body{% endfilter %}
    StmtPtr parse_filter_block(const Token& open) {
        auto s = node<Stmt>(Stmt::Kind::FilterBlock, open);
        s->expr = parse_filter_chain(node<Expr>(Expr::Kind::BlockInput, cur()), true);
        expect_block_end("filter");
        s->body = parse_body({"endfilter"}, &open);
        expect_block_end("endfilter");
        return s;
    }

    // {% with a = x, b = y %}body{% endwith %}
    StmtPtr parse_with(const Token& open) {
        auto s = node<Stmt>(Stmt::Kind::With, open);
        while (cur().kind != TokenKind::BlockEnd) {
            if (!s->targets.empty()) expect_op(",");
            s->targets.push_back(expect_name("a variable name"));
            expect_op("=");
            s->conditions.push_back(parse_expression(true));
        }
        expect_block_end("with");
        s->body = parse_body({"endwith"}, &open);
        expect_block_end("endwith");
        return s;
    }

    // {% call(params) macro(args) %}body{% endcall %}
    StmtPtr parse_call_block(const Token& open) {
        auto s = node<Stmt>(Stmt::Kind::CallBlock, open);
        if (is_op("(")) parse_signature(*s);
        const Token& at = cur();
        s->expr = parse_expression(true);
        if (s->expr->kind != Expr::Kind::Call) error(at, "expected a call after 'call'");
        expect_block_end("call");
        s->body = parse_function_body("endcall", open);
        return s;
    }

    // Whether any expression in `body` reads the variable `name`.
    static bool references(const Expr* e, std::string_view name) {
        if (!e) return false;
        if (e->kind == Expr::Kind::Name && e->name == name) return true;
        for (const auto& c : e->children)
            if (references(c.get(), name)) return true;
        for (const auto& [k, v] : e->kwargs)
            if (references(v.get(), name)) return true;
        return false;
    }
    static bool references(const Body& body, std::string_view name) {
        for (const auto& s : body) {
            if (references(s->expr.get(), name) || references(s->filter.get(), name) || references(s->body, name) ||
                references(s->else_body, name))
                return true;
            for (const auto& c : s->conditions)
                if (references(c.get(), name)) return true;
            for (const auto& b : s->bodies)
                if (references(b, name)) return true;
            for (const auto& d : s->defaults)
                if (references(d.get(), name)) return true;
        }
        return false;
    }

    // ---- expressions ----

    bool at_tuple_end() const {
        const Token& t = cur();
        return t.kind == TokenKind::VarEnd || t.kind == TokenKind::BlockEnd ||
               (t.kind == TokenKind::Operator && (t.text == ")" || t.text == "=")) ||
               (t.kind == TokenKind::Name && (t.text == "if" || t.text == "recursive"));
    }

    ExprPtr parse_tuple(bool with_condexpr) {
        const Token& start = cur();
        ExprPtr first = parse_expression(with_condexpr);
        if (!is_op(",")) return first;
        auto t = node<Expr>(Expr::Kind::Tuple, start);
        t->children.push_back(std::move(first));
        while (skip_op(",")) {
            if (at_tuple_end()) break;
            t->children.push_back(parse_expression(with_condexpr));
        }
        return grown(std::move(t));
    }

    ExprPtr parse_expression(bool with_condexpr) {
        DepthGuard guard(*this, cur());
        if (!with_condexpr) return parse_or();
        const Token& start = cur();
        ExprPtr e = parse_or();
        while (skip_name("if")) {
            auto c = node<Expr>(Expr::Kind::CondExpr, start);
            c->children.push_back(std::move(e));
            c->children.push_back(parse_or());
            c->children.push_back(skip_name("else") ? parse_expression(true) : nullptr);
            e = grown(std::move(c));
        }
        return e;
    }

    ExprPtr binary(Expr::Kind kind, const Token& at, ExprPtr a, ExprPtr b, std::string op = {}) {
        auto n = node<Expr>(kind, at);
        n->name = std::move(op);
        n->children.push_back(std::move(a));
        n->children.push_back(std::move(b));
        return grown(std::move(n));
    }

    ExprPtr parse_or() {
        ExprPtr e = parse_and();
        while (is_name("or")) {
            const Token& t = next();
            e = binary(Expr::Kind::Or, t, std::move(e), parse_and());
        }
        return e;
    }

    ExprPtr parse_and() {
        ExprPtr e = parse_not();
        while (is_name("and")) {
            const Token& t = next();
            e = binary(Expr::Kind::And, t, std::move(e), parse_not());
        }
        return e;
    }

    ExprPtr parse_not() {
        if (is_name("not")) {
            DepthGuard guard(*this, cur());
            auto n = node<Expr>(Expr::Kind::Not, next());
            n->children.push_back(parse_not());
            return grown(std::move(n));
        }
        return parse_compare();
    }

    ExprPtr parse_compare() {
        const Token& start = cur();
        ExprPtr first = parse_math1();
        ExprPtr cmp;
        for (;;) {
            std::string op;
            const Token& t = cur();
            if (t.kind == TokenKind::Operator && (t.text == "==" || t.text == "!=" || t.text == "<" || t.text == "<=" ||
                                                  t.text == ">" || t.text == ">=")) {
                op = t.text;
                next();
            } else if (is_name("in")) {
                op = "in";
                next();
            } else if (is_name("not") && peek().kind == TokenKind::Name && peek().text == "in") {
                op = "notin";
                next();
                next();
            } else {
                break;
            }
            if (!cmp) {
                cmp = node<Expr>(Expr::Kind::Compare, start);
                cmp->children.push_back(std::move(first));
            }
            cmp->ops.push_back(op);
            cmp->children.push_back(parse_math1());
        }
        return cmp ? grown(std::move(cmp)) : std::move(first);
    }

    ExprPtr parse_math1() {
        ExprPtr e = parse_concat();
        while (is_op("+") || is_op("-")) {
            const Token& t = next();
            e = binary(Expr::Kind::Binary, t, std::move(e), parse_concat(), t.text);
        }
        return e;
    }

    ExprPtr parse_concat() {
        const Token& start = cur();
        ExprPtr e = parse_math2();
        if (!is_op("~")) return e;
        auto c = node<Expr>(Expr::Kind::Concat, start);
        c->children.push_back(std::move(e));
        while (skip_op("~")) c->children.push_back(parse_math2());
        return grown(std::move(c));
    }

    ExprPtr parse_math2() {
        ExprPtr e = parse_pow();
        while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
            const Token& t = next();
            e = binary(Expr::Kind::Binary, t, std::move(e), parse_pow(), t.text);
        }
        return e;
    }

    ExprPtr parse_pow() {
        ExprPtr e = parse_unary(true);
        while (is_op("**")) {
            const Token& t = next();
            e = binary(Expr::Kind::Binary, t, std::move(e), parse_unary(true), "**");
        }
        return e;
    }

    ExprPtr parse_unary(bool with_filter) {
        DepthGuard guard(*this, cur());
        ExprPtr e;
        if (is_op("-") || is_op("+")) {
            const Token& t = next();
            e = node<Expr>(t.text == "-" ? Expr::Kind::Neg : Expr::Kind::Pos, t);
            e->children.push_back(parse_unary(false));
            e = grown(std::move(e));
        } else {
            e = parse_primary();
        }
        e = parse_postfix(std::move(e));
        if (with_filter) e = parse_filter_expr(std::move(e));
        return e;
    }

    ExprPtr parse_primary() {
        const Token& t = cur();
        switch (t.kind) {
        case TokenKind::Name: {
            next();
            auto e = node<Expr>(Expr::Kind::Literal, t);
            if (t.text == "true" || t.text == "True")
                e->value = Value::boolean(true);
            else if (t.text == "false" || t.text == "False")
                e->value = Value::boolean(false);
            else if (t.text == "none" || t.text == "None")
                e->value = Value::none();
            else {
                e->kind = Expr::Kind::Name;
                e->name = t.text;
            }
            return e;
        }
        case TokenKind::String: {
            auto e = node<Expr>(Expr::Kind::Literal, t);
            std::string s;
            while (cur().kind == TokenKind::String) s += next().text;
            e->value = Value::string(std::move(s));
            return e;
        }
        case TokenKind::Integer:
        case TokenKind::Float: {
            next();
            auto e = node<Expr>(Expr::Kind::Literal, t);
            e->value = t.kind == TokenKind::Integer ? Value::integer(t.int_value) : Value::number(t.float_value);
            return e;
        }
        case TokenKind::Operator:
            if (t.text == "(") {
                next();
                if (skip_op(")")) return node<Expr>(Expr::Kind::Tuple, t);
                ExprPtr e = parse_expression(true);
                if (is_op(",")) {
                    auto tuple = node<Expr>(Expr::Kind::Tuple, t);
                    tuple->children.push_back(std::move(e));
                    while (skip_op(",") && !is_op(")")) tuple->children.push_back(parse_expression(true));
                    e = grown(std::move(tuple));
                }
                expect_op(")");
                return e;
            }
            if (t.text == "[") {
                next();
                auto e = node<Expr>(Expr::Kind::List, t);
                while (!is_op("]")) {
                    if (!e->children.empty()) expect_op(",");
                    if (is_op("]")) break;
                    e->children.push_back(parse_expression(true));
                }
                next();
                return grown(std::move(e));
            }
            if (t.text == "{") {
                next();
                auto e = node<Expr>(Expr::Kind::Dict, t);
                while (!is_op("}")) {
                    if (!e->children.empty()) expect_op(",");
                    if (is_op("}")) break;
                    e->children.push_back(parse_expression(true));
                    expect_op(":");
                    e->children.push_back(parse_expression(true));
                }
                next();
                return grown(std::move(e));
            }
            break;
        default: break;
        }
        error(t, "unexpected " + describe(t) + " in expression");
    }

    ExprPtr parse_postfix(ExprPtr e) {
        for (;;) {
            const Token& t = cur();
            if (is_op(".")) {
                next();
                if (cur().kind == TokenKind::Integer) {
                    auto item = node<Expr>(Expr::Kind::Literal, cur());
                    item->value = Value::integer(next().int_value);
                    e = binary(Expr::Kind::GetItem, t, std::move(e), std::move(item));
                } else {
                    auto a = node<Expr>(Expr::Kind::GetAttr, t);
                    a->name = expect_name("an attribute name after '.'");
                    a->children.push_back(std::move(e));
                    e = grown(std::move(a));
                }
            } else if (is_op("[")) {
                next();
                e = parse_subscript(std::move(e), t);
            } else if (is_op("(")) {
                auto c = node<Expr>(Expr::Kind::Call, t);
                c->children.push_back(std::move(e));
                parse_call_args(*c);
                e = grown(std::move(c));
            } else {
                return e;
            }
        }
    }

    ExprPtr parse_subscript(ExprPtr obj, const Token& at) {
        ExprPtr parts[3];
        int index = 0;
        bool is_slice = false;
        for (;;) {
            if (is_op("]")) break;
            if (is_op(":")) {
                next();
                is_slice = true;
                if (++index > 2) error(cur(), "too many ':' in slice");
                continue;
            }
            if (parts[index]) error(cur(), "expected ':' or ']', found " + describe(cur()));
            parts[index] = parse_expression(true);
        }
        next();
        if (!is_slice) {
            if (!parts[0]) error(at, "empty subscript");
            return binary(Expr::Kind::GetItem, at, std::move(obj), std::move(parts[0]));
        }
        auto s = node<Expr>(Expr::Kind::Slice, at);
        s->children.push_back(std::move(obj));
        for (auto& p : parts) s->children.push_back(std::move(p));
        return grown(std::move(s));
    }

    void parse_call_args(Expr& call) {
        expect_op("(");
        bool first = true;
        while (!is_op(")")) {
            if (!first) expect_op(",");
            first = false;
            if (is_op(")")) break;
            if (cur().kind == TokenKind::Name && peek().kind == TokenKind::Operator && peek().text == "=") {
                std::string key = next().text;
                next();
                call.kwargs.emplace_back(std::move(key), parse_expression(true));
            } else {
                if (!call.kwargs.empty()) error(cur(), "positional argument after keyword argument");
                call.children.push_back(parse_expression(true));
            }
        }
        next();
    }

    // `|name(args)|name2...` applied to `input`; with `inline_first`, the first filter has no
    // `|` before it (a filter block's tag). `one` stops after one filter.
    ExprPtr parse_filter_chain(ExprPtr input, bool inline_first, bool one = false) {
        ExprPtr e = std::move(input);
        bool first = true;
        while ((first && inline_first) || is_op("|")) {
            const Token& t = (first && inline_first) ? cur() : next();
            auto f = node<Expr>(Expr::Kind::Filter, t);
            const Token& name_tok = cur();
            f->name = expect_name(first && inline_first ? "a filter name" : "a filter name after '|'");
            if (!is_known_filter(f->name)) error(name_tok, "no filter named '" + f->name + "'");
            f->children.push_back(std::move(e));
            if (is_op("(")) parse_call_args(*f);
            e = grown(std::move(f));
            first = false;
            if (one) break;
        }
        return e;
    }

    ExprPtr parse_filter_expr(ExprPtr e) {
        for (;;) {
            if (is_op("|")) {
                e = parse_filter_chain(std::move(e), false, true);
            } else if (is_name("is")) {
                const Token& t = next();
                auto test = node<Expr>(Expr::Kind::Test, t);
                test->negated = skip_name("not");
                const Token& name_tok = cur();
                test->name = expect_name("a test name after 'is'");
                if (!is_known_test(test->name)) error(name_tok, "no test named '" + test->name + "'");
                test->children.push_back(std::move(e));
                const Token& a = cur();
                bool primary_start = a.kind == TokenKind::Name || a.kind == TokenKind::String ||
                                     a.kind == TokenKind::Integer || a.kind == TokenKind::Float ||
                                     (a.kind == TokenKind::Operator && (a.text == "[" || a.text == "{"));
                if (is_op("(")) {
                    parse_call_args(*test);
                } else if (primary_start && !is_name("else") && !is_name("or") && !is_name("and") && !is_name("if") &&
                           !is_name("in") && !is_name("not")) {
                    if (is_name("is")) error(a, "cannot chain tests with 'is'");
                    test->children.push_back(parse_postfix(parse_primary()));
                }
                e = grown(std::move(test));
            } else if (is_op("(")) {
                auto c = node<Expr>(Expr::Kind::Call, cur());
                c->children.push_back(std::move(e));
                parse_call_args(*c);
                e = grown(std::move(c));
            } else {
                return e;
            }
        }
    }

    std::vector<Token> toks_;
    size_t pos_ = 0;
    int depth_ = 0;
    int loop_depth_ = 0;
};

}  // namespace

std::shared_ptr<const Template> parse_template(std::string_view source) {
    return Parser(tokenize(source)).run();
}

}  // namespace fm::jinja
