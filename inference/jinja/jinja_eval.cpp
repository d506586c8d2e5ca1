#include "inference/jinja/jinja_eval.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <unordered_map>

#include "inference/jinja/jinja_builtins.h"

namespace fm::jinja {
namespace {

constexpr size_t kMaxOutputBytes = size_t{64} << 20;
constexpr int kMaxCallDepth = 64;
constexpr int64_t kMaxSteps = 10'000'000;

class Evaluator {
public:
    Evaluator(const Dict& variables, const RenderOptions& options) {
        Dict globals;
        add_globals(globals, options.now);
        Frame root;
        for (const auto& [k, v] : globals.items) root[k.as_string()] = v;
        for (const auto& [k, v] : variables.items)
            if (k.is_string()) root[k.as_string()] = v;
        frames_.push_back(std::move(root));
    }

    Rendered run(const Body& body) {
        exec_body(body);
        return {std::move(out_), std::move(out_taint_)};
    }

private:
    using Frame = std::unordered_map<std::string, Value>;
    enum class Flow { Normal, Break, Continue };

    // Pushes a variable frame for one loop iteration or macro call.
    struct FrameGuard {
        Evaluator& ev;
        size_t saved_base;
        FrameGuard(Evaluator& e, bool isolate) : ev(e), saved_base(e.base_) {
            ev.frames_.emplace_back();
            if (isolate) ev.base_ = ev.frames_.size() - 1;
        }
        ~FrameGuard() {
            ev.frames_.pop_back();
            ev.base_ = saved_base;
        }
    };

    static void locate(TemplateError& err, int line, int column) {
        if (err.line == 0) {
            err.line = line;
            err.column = column;
        }
    }

    void step() {
        if (++steps_ > kMaxSteps) fail("the template takes too long to render (endless loop?)");
    }

    void write(const std::string& s, const Taint& taint = {}) {
        if (out_.size() + s.size() > kMaxOutputBytes) fail("the rendered text is too large");
        // The output is held memory too; a string doubles its capacity as it grows.
        require_memory(out_.capacity() < out_.size() + s.size() ? out_.size() + s.size() : 0);
        if (MemoryBudget* budget = MemoryBudget::active()) budget->charge(s.size());
        out_charged_ += s.size();
        out_taint_.append(taint, out_.size());
        out_ += s;
    }

    // Text printed from a non-string value (a list, a dict) is the message's wherever any of
    // the value is.
    void write_value(const Value& v) {
        if (v.is_string()) {
            write(v.as_string(), v.taint());
            return;
        }
        const std::string s = to_str(v);
        write(s, carries_taint(v) ? Taint::all(s.size()) : Taint{});
    }

    Value lookup(const std::string& name) const {
        for (size_t i = frames_.size(); i-- > base_;) {
            auto it = frames_[i].find(name);
            if (it != frames_[i].end()) return it->second;
        }
        if (base_ > 0) {
            auto it = frames_[0].find(name);
            if (it != frames_[0].end()) return it->second;
        }
        return Value::undefined("'" + name + "' is undefined");
    }

    void assign(const std::string& name, Value v) { frames_.back()[name] = std::move(v); }

    void bind(const std::vector<std::string>& targets, const Value& v) {
        if (targets.size() == 1) {
            assign(targets[0], v);
            return;
        }
        if (!v.is_list())
            fail("cannot unpack a '" + type_name(v) + "' into " + std::to_string(targets.size()) + " names");
        const auto& items = v.as_list().items;
        if (items.size() != targets.size())
            fail(std::string(items.size() > targets.size() ? "too many" : "not enough") +
                 " values to unpack (expected " + std::to_string(targets.size()) + ", got " +
                 std::to_string(items.size()) + ")");
        for (size_t i = 0; i < targets.size(); ++i) assign(targets[i], items[i]);
    }

    // ---- statements ----

    Flow exec_body(const Body& body) {
        for (const auto& s : body) {
            Flow f = exec(*s);
            if (f != Flow::Normal) return f;
        }
        return Flow::Normal;
    }

    Flow exec(const Stmt& s) {
        try {
            step();
            return exec_node(s);
        } catch (TemplateError& err) {
            locate(err, s.line, s.column);
            throw;
        }
    }

    Flow exec_node(const Stmt& s) {
        switch (s.kind) {
        case Stmt::Kind::Text: write(s.text); return Flow::Normal;
        case Stmt::Kind::Output: write_value(eval(*s.expr)); return Flow::Normal;
        case Stmt::Kind::If:
            for (size_t i = 0; i < s.conditions.size(); ++i)
                if (truthy(eval(*s.conditions[i]))) return exec_body(s.bodies[i]);
            if (s.bodies.size() > s.conditions.size()) return exec_body(s.bodies.back());
            return Flow::Normal;
        case Stmt::Kind::For: return exec_for(s);
        case Stmt::Kind::Set: {
            Value v = eval(*s.expr);
            if (!s.set_attr) {
                bind(s.targets, v);
                return Flow::Normal;
            }
            Value ns = lookup(s.targets[0]);
            if (!ns.is_dict() || !ns.as_dict().is_namespace)
                fail("cannot assign attribute on non-namespace object '" + s.targets[0] + "'");
            if (holds_dict(v, &ns.as_dict())) fail("cannot store namespace '" + s.targets[0] + "' inside itself");
            ns.as_dict().set(s.text, std::move(v));
            return Flow::Normal;
        }
        case Stmt::Kind::SetBlock: {
            Value body = capture(s.body);
            assign(s.targets[0], s.expr ? filter_block(*s.expr, std::move(body)) : std::move(body));
            return Flow::Normal;
        }
        case Stmt::Kind::FilterBlock: {
            Value body;
            {
                FrameGuard frame(*this, false);  // what the body sets stays inside (Jinja2's inner frame)
                body = capture(s.body);
            }
            write_value(filter_block(*s.expr, std::move(body)));
            return Flow::Normal;
        }
        case Stmt::Kind::CallBlock: return exec_call_block(s);
        case Stmt::Kind::With: {
            std::vector<Value> values;  // evaluated outside the new scope, as Jinja2 does
            for (const auto& e : s.conditions) values.push_back(eval(*e));
            FrameGuard frame(*this, false);
            for (size_t i = 0; i < s.targets.size(); ++i) assign(s.targets[i], std::move(values[i]));
            return exec_body(s.body);
        }
        case Stmt::Kind::Macro: {
            const Stmt* m = &s;
            assign(s.text, Value::function(s.text, [this, m](CallArgs& args) { return call_macro(*m, args, true); }));
            return Flow::Normal;
        }
        case Stmt::Kind::Break: return Flow::Break;
        case Stmt::Kind::Continue: return Flow::Continue;
        case Stmt::Kind::Scope: return exec_body(s.body);
        }
        return Flow::Normal;
    }

    // The body's output as a string value, provenance kept.
    Value capture(const Body& body) {
        return capture_with([&] { exec_body(body); });
    }

    // What `run` writes, as a string value, provenance kept.
    template <typename F>
    Value capture_with(F&& run) {
        std::string saved = std::move(out_);
        Taint saved_taint = std::move(out_taint_);
        const size_t saved_charged = out_charged_;
        out_.clear();
        out_taint_ = Taint{};
        out_charged_ = 0;
        run();
        if (MemoryBudget* budget = MemoryBudget::active())
            budget->refund(out_charged_);  // the value made next holds these bytes now
        Value captured = Value::text(std::move(out_), std::move(out_taint_));
        out_ = std::move(saved);
        out_taint_ = std::move(saved_taint);
        out_charged_ = saved_charged;
        return captured;
    }

    Flow exec_for(const Stmt& s) {
        run_loop(s, eval(*s.expr), 0);
        return Flow::Normal;
    }

    // One level of a for loop (recursive loops run one level per `loop(items)` call).
    void run_loop(const Stmt& s, const Value& sequence, int depth) {
        std::vector<Value> items;
        {
            // A string's characters and a dict's keys are made here; a list's items exist.
            TaintScope scope(TaintScope::active() || (!sequence.is_list() && carries_taint(sequence)));
            items = iterate(sequence);
        }
        if (s.filter) {
            std::vector<Value> kept;
            for (auto& item : items) {
                FrameGuard frame(*this, false);
                bind(s.targets, item);
                if (truthy(eval(*s.filter))) kept.push_back(std::move(item));
            }
            items = std::move(kept);
        }
        if (items.empty()) {
            exec_body(s.else_body);
            return;
        }
        const auto n = static_cast<int64_t>(items.size());
        // One `loop` object for the whole level, updated in place each iteration (as Jinja2's
        // LoopContext is); its slots are in this order.
        enum Slot : size_t { Index, Index0, Revindex, Revindex0, First, Last, Length, Depth, Depth0, Prev, Next };
        auto loop = std::make_shared<Dict>();
        loop->items.reserve(13);
        for (const char* name : {"index", "index0", "revindex", "revindex0", "first", "last", "length", "depth",
                                 "depth0", "previtem", "nextitem"})
            loop->add_new(name, Value::none());
        auto position = std::make_shared<size_t>(0);
        loop->add_new("cycle", Value::function("cycle", [position](CallArgs& args) {
                          if (args.positional.empty()) fail("no items for cycling given");
                          return args.positional[*position % args.positional.size()];
                      }));
        auto last_seen = std::make_shared<std::optional<std::vector<Value>>>();
        loop->add_new("changed", Value::function("changed", [last_seen](CallArgs& args) {
                          const auto& now = args.positional;
                          bool same = last_seen->has_value() && (*last_seen)->size() == now.size();
                          for (size_t i = 0; same && i < now.size(); ++i) same = equals((**last_seen)[i], now[i]);
                          if (!same) *last_seen = now;
                          return Value::boolean(!same);
                      }));
        if (s.recursive) {
            const Stmt* stmt = &s;
            loop->call = [this, stmt, depth](CallArgs& args) {
                if (args.positional.size() != 1 || !args.named.empty()) fail("loop() takes exactly one argument");
                if (depth + 1 >= kMaxCallDepth) fail("the recursive loop goes too deep");
                const Value inner = args.positional[0];
                return capture_with([&] { run_loop(*stmt, inner, depth + 1); });
            };
        } else {
            loop->call = [](CallArgs&) -> Value {
                fail("The loop must have the 'recursive' marker to be called recursively.");
            };
        }
        auto put = [&loop](Slot slot, Value v) {
            loop->depth = std::max(loop->depth, nesting_of(v) + 1);
            if (loop->depth > NestingGuard::kMaxNesting) fail("a value is nested too deeply");
            loop->items[slot].second = std::move(v);
        };
        put(Length, Value::integer(n));
        put(Depth, Value::integer(depth + 1));
        put(Depth0, Value::integer(depth));
        const Value loop_value = Value::dict(loop);
        for (int64_t i = 0; i < n; ++i) {
            step();
            FrameGuard frame(*this, false);
            const auto idx = static_cast<size_t>(i);
            bind(s.targets, items[idx]);
            *position = idx;
            put(Index, Value::integer(i + 1));
            put(Index0, Value::integer(i));
            put(Revindex, Value::integer(n - i));
            put(Revindex0, Value::integer(n - i - 1));
            put(First, Value::boolean(i == 0));
            put(Last, Value::boolean(i == n - 1));
            put(Prev, i > 0 ? items[idx - 1] : Value::undefined("there is no previous item"));
            put(Next, i + 1 < n ? items[idx + 1] : Value::undefined("there is no next item"));
            assign("loop", loop_value);
            if (exec_body(s.body) == Flow::Break) break;
        }
    }

    // A filter block's (or filtered set block's) filter chain applied to its rendered body.
    Value filter_block(const Expr& chain, Value body) {
        block_inputs_.push_back(std::move(body));
        Value out = eval(chain);
        block_inputs_.pop_back();
        return out;
    }

    // {% call(params) macro(args) %}body{% endcall %}: the macro gets `caller`, a macro whose
    // body is this block's, seeing the variables of the call site.
    Flow exec_call_block(const Stmt& s) {
        const Expr& call = *s.expr;
        Value callee = eval_defined(*call.children[0]);
        CallArgs args = eval_args(call);
        const size_t site = frames_.size(), site_base = base_;
        auto alive = std::make_shared<bool>(true);
        const Stmt* block = &s;
        args.named.emplace_back(
            "caller", Value::function("caller", [this, block, site, site_base, alive](CallArgs& caller_args) {
                if (!*alive || frames_.size() < site) fail("caller() can only be called while its call block runs");
                // Hide the macro's frames: the block sees its own site's names.
                std::vector<Frame> hidden(std::make_move_iterator(frames_.begin() + static_cast<long>(site)),
                                          std::make_move_iterator(frames_.end()));
                frames_.resize(site);
                const size_t saved_base = base_;
                base_ = site_base;
                struct Restore {
                    Evaluator& ev;
                    std::vector<Frame>& hidden;
                    size_t site, base;
                    ~Restore() {
                        ev.frames_.resize(site);
                        for (auto& f : hidden) ev.frames_.push_back(std::move(f));
                        ev.base_ = base;
                    }
                } restore{*this, hidden, site, saved_base};
                return call_macro(*block, caller_args, false);
            }));
        Value result = call_value(callee, args);
        *alive = false;
        write_value(result);
        return Flow::Normal;
    }

    // Calls a macro (or a call block's caller, `isolate` false: it sees its call site).
    Value call_macro(const Stmt& m, CallArgs& args, bool isolate) {
        const std::string& name = m.kind == Stmt::Kind::Macro ? m.text : std::string("caller");
        if (call_depth_ >= kMaxCallDepth) fail("macro '" + name + "' calls itself too deeply");
        if (args.positional.size() > m.targets.size() && !m.uses_varargs)
            fail("macro '" + name + "' takes not more than " + std::to_string(m.targets.size()) + " argument(s)");
        auto kwargs = std::make_shared<Dict>();
        Value caller = Value::undefined("No caller defined");
        for (const auto& [k, v] : args.named) {
            if (std::find(m.targets.begin(), m.targets.end(), k) != m.targets.end()) continue;
            if (k == "caller" && m.uses_caller)
                caller = v;
            else if (m.uses_kwargs)
                kwargs->set(k, v);
            else if (k == "caller")
                fail("macro '" + name +
                     "' was invoked with two values for the special caller argument. This is most likely a bug.");
            else
                fail("macro '" + name + "' takes no keyword argument '" + k + "'");
        }
        ++call_depth_;
        // The body's operations judge their own inputs; a tainted argument does not make the
        // macro's own text the message's.
        TaintScope scope(false);
        FrameGuard frame(*this, isolate);
        for (size_t i = 0; i < m.targets.size(); ++i) {
            const std::string& p = m.targets[i];
            Value v = Value::undefined("parameter '" + p + "' was not provided");
            if (i < args.positional.size())
                v = args.positional[i];
            else if (auto it =
                         std::find_if(args.named.begin(), args.named.end(), [&](auto& kv) { return kv.first == p; });
                     it != args.named.end())
                v = it->second;
            else if (m.defaults[i])
                v = eval(*m.defaults[i]);
            assign(p, std::move(v));
        }
        if (m.uses_caller) assign("caller", std::move(caller));
        if (m.uses_varargs) {
            std::vector<Value> rest;
            for (size_t i = m.targets.size(); i < args.positional.size(); ++i) rest.push_back(args.positional[i]);
            assign("varargs", Value::list(std::move(rest), true));
        }
        if (m.uses_kwargs) assign("kwargs", Value::dict(std::move(kwargs)));
        Value text = capture(m.body);
        --call_depth_;
        return text;
    }

    Value call_value(const Value& callee, CallArgs& args) {
        if (callee.is_function()) {
            TaintScope scope(TaintScope::active() || callee.as_function().tainted || carries_taint(args));
            return callee.as_function().call(args);
        }
        if (callee.is_dict() && callee.as_dict().call) {
            TaintScope scope(TaintScope::active() || carries_taint(args));
            return callee.as_dict().call(args);
        }
        fail("'" + type_name(callee) + "' object is not callable");
    }

    // ---- expressions ----

    Value eval(const Expr& e) {
        try {
            return eval_node(e);
        } catch (TemplateError& err) {
            locate(err, e.line, e.column);
            throw;
        }
    }

    // The value of `e`, failing at e's position when it is undefined (for operands that
    // cannot be undefined: attribute access, calls, arithmetic).
    Value eval_defined(const Expr& e) {
        Value v = eval(e);
        if (v.is_undefined()) throw TemplateError{v.undefined_reason(), e.line, e.column};
        return v;
    }

    CallArgs eval_args(const Expr& e) {
        CallArgs args;
        for (size_t i = 1; i < e.children.size(); ++i) args.positional.push_back(eval(*e.children[i]));
        for (const auto& [k, v] : e.kwargs) args.named.emplace_back(k, eval(*v));
        return args;
    }

    static bool carries_taint(const CallArgs& args) {
        for (const Value& v : args.positional)
            if (jinja::carries_taint(v)) return true;
        for (const auto& kv : args.named)
            if (jinja::carries_taint(kv.second)) return true;
        return false;
    }
    static bool carries_taint(const Value& v) { return jinja::carries_taint(v); }

    bool compare_op(const std::string& op, const Value& a, const Value& b) {
        if (op == "==") return equals(a, b);
        if (op == "!=") return !equals(a, b);
        if (op == "in") return contains(b, a);
        if (op == "notin") return !contains(b, a);
        int c = compare(a, b);
        if (op == "<") return c < 0;
        if (op == "<=") return c <= 0;
        if (op == ">") return c > 0;
        return c >= 0;
    }

    Value eval_node(const Expr& e) {
        switch (e.kind) {
        case Expr::Kind::Literal: return e.value;
        case Expr::Kind::Name: return lookup(e.name);
        case Expr::Kind::List:
        case Expr::Kind::Tuple: {
            std::vector<Value> items;
            for (const auto& c : e.children) items.push_back(eval(*c));
            return Value::list(std::move(items), e.kind == Expr::Kind::Tuple);
        }
        case Expr::Kind::Dict: {
            auto d = std::make_shared<Dict>();
            for (size_t i = 0; i + 1 < e.children.size(); i += 2) {
                Value k = eval(*e.children[i]);
                require_hashable(k);
                if (carries_taint(k)) d->tainted_keys = true;
                d->set(std::move(k), eval(*e.children[i + 1]));
            }
            return Value::dict(std::move(d));
        }
        case Expr::Kind::GetAttr: return get_attr(eval_defined(*e.children[0]), e.name);
        case Expr::Kind::GetItem: {
            Value obj = eval_defined(*e.children[0]);
            Value key = eval(*e.children[1]);
            TaintScope scope(TaintScope::active() || (obj.is_string() && !obj.taint().empty()));
            return get_item(obj, key);
        }
        case Expr::Kind::Slice: {
            Value obj = eval_defined(*e.children[0]);
            Value parts[3] = {Value::none(), Value::none(), Value::none()};  // omitted: None
            for (int i = 0; i < 3; ++i)
                if (e.children[static_cast<size_t>(i) + 1]) parts[i] = eval(*e.children[static_cast<size_t>(i) + 1]);
            TaintScope scope(TaintScope::active() || (obj.is_string() && !obj.taint().empty()));
            return slice(obj, parts[0], parts[1], parts[2]);
        }
        case Expr::Kind::Call: {
            Value callee = eval_defined(*e.children[0]);
            CallArgs args = eval_args(e);
            return call_value(callee, args);
        }
        case Expr::Kind::BlockInput:
            if (block_inputs_.empty()) fail("a filter block's input outside of a filter block");
            return block_inputs_.back();
        case Expr::Kind::Filter: {
            Value input = eval(*e.children[0]);
            CallArgs args = eval_args(e);
            TaintScope scope(TaintScope::active() || carries_taint(input) || carries_taint(args));
            return apply_filter(e.name, input, args);
        }
        case Expr::Kind::Test: {
            Value input = eval(*e.children[0]);
            return Value::boolean(apply_test(e.name, input, eval_args(e)) != e.negated);
        }
        case Expr::Kind::Neg:
        case Expr::Kind::Pos: {
            Value v = eval_defined(*e.children[0]);
            if (!v.is_number())
                fail(std::string("bad operand type for unary ") + (e.kind == Expr::Kind::Neg ? "-" : "+") + ": '" +
                     type_name(v) + "'");
            if (e.kind == Expr::Kind::Pos) return v.is_bool() ? Value::integer(v.as_int()) : v;
            return binary_op("*", v, Value::integer(-1));
        }
        case Expr::Kind::Not: return Value::boolean(!truthy(eval(*e.children[0])));
        case Expr::Kind::Binary: {
            Value a = eval_defined(*e.children[0]);
            // str % undefined is Python's str % mapping (see binary_op); anything else fails here.
            Value b = a.is_string() && e.name == "%" ? eval(*e.children[1]) : eval_defined(*e.children[1]);
            TaintScope scope(TaintScope::active() || carries_taint(a) || carries_taint(b));
            return binary_op(e.name, a, b);
        }
        case Expr::Kind::Compare: {
            Value left = eval(*e.children[0]);
            for (size_t i = 0; i < e.ops.size(); ++i) {
                Value right = eval(*e.children[i + 1]);
                if (!compare_op(e.ops[i], left, right)) return Value::boolean(false);
                left = std::move(right);
            }
            return Value::boolean(true);
        }
        case Expr::Kind::And: {
            Value a = eval(*e.children[0]);
            return truthy(a) ? eval(*e.children[1]) : a;
        }
        case Expr::Kind::Or: {
            Value a = eval(*e.children[0]);
            return truthy(a) ? a : eval(*e.children[1]);
        }
        case Expr::Kind::CondExpr:
            if (truthy(eval(*e.children[1]))) return eval(*e.children[0]);
            if (e.children[2]) return eval(*e.children[2]);
            return Value::undefined("the inline if-expression evaluated to false and has no else section");
        case Expr::Kind::Concat: {
            std::string out;
            Taint taint;
            for (const auto& c : e.children) {
                Value v = eval(*c);
                if (v.is_string()) {
                    if (out.size() + v.as_string().size() > kMaxOutputBytes) fail("string too large");
                    require_memory(out.size() + v.as_string().size());
                    taint.append(v.taint(), out.size());
                    out += v.as_string();
                    continue;
                }
                const std::string s = to_str(v);
                if (out.size() + s.size() > kMaxOutputBytes) fail("string too large");
                require_memory(out.size() + s.size());
                if (TaintScope::active() || carries_taint(v)) taint.add(out.size(), out.size() + s.size());
                out += s;
            }
            return Value::text(std::move(out), std::move(taint));
        }
        }
        fail("unknown expression");
    }

    std::vector<Frame> frames_;
    size_t base_ = 0;  // frames below base_, except the root, are hidden (a macro does not see its caller's)
    std::string out_;
    Taint out_taint_;         // which bytes of out_ came from messages
    size_t out_charged_ = 0;  // what out_ holds of the memory budget
    int64_t steps_ = 0;
    int call_depth_ = 0;
    std::vector<Value> block_inputs_;  // the rendered bodies being filtered (filter blocks)
};

}  // namespace

Rendered render_with_provenance(const Template& tpl, const Dict& variables, size_t memory_budget) {
    RenderOptions options;
    options.memory_budget = memory_budget;
    return render_with_provenance(tpl, variables, options);
}

Rendered render_with_provenance(const Template& tpl, const Dict& variables, const RenderOptions& options) {
    MemoryBudget budget(options.memory_budget);
    return render_with_provenance(tpl, variables, budget, options);
}

Rendered render_with_provenance(const Template& tpl, const Dict& variables, MemoryBudget& budget,
                                const RenderOptions& options) {
    Rendered out;
    {
        TaintScope taint(false);
        BudgetScope scope(&budget);
        out = Evaluator(variables, options).run(tpl.body);
    }
    out.peak_memory = budget.peak();
    return out;
}

std::string render(const Template& tpl, const Dict& variables, size_t memory_budget) {
    return render_with_provenance(tpl, variables, memory_budget).text;
}

std::string render(const Template& tpl, const Dict& variables, const RenderOptions& options) {
    return render_with_provenance(tpl, variables, options).text;
}

}  // namespace fm::jinja
