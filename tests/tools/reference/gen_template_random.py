#!/usr/bin/env python3
"""Writes tests/data/templates/random.json: random small templates (expressions over literals of
every type, filters, tests, methods, operators, loops, filter blocks, call blocks; statements
nested in one another with text, newlines and whitespace control around tags, for
trim_blocks/lstrip_blocks; macros, call blocks and recursive loops) and what
Jinja2 does with them, configured as transformers configures it (gen_template_corpus.make_env).
tests/text/test_chat_template.cpp renders each and compares byte for byte, or expects a failure
where Jinja2 failed.

The grammar leaves out what differs on purpose (docs/chat-templates.md): filters and methods
that return generators or dict views are always followed by `| list`, Markup-returning filters
are not used, and literals are not subscripted (Jinja2 folds constant expressions).

    python3 tests/tools/reference/gen_template_random.py [--seed N] [--count N]
"""

import argparse
import copy
import json
import pathlib
import random
import sys

import jinja2

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from gen_template_corpus import RaisedByTemplate, make_env  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[2] / "data" / "templates" / "random.json"

STRINGS = ["'a'", "'Hello World'", "''", "' x y '", "'ß'", "'ΣΑΣ'", "'a,b,,c'", "'{{x}}'", "'<|im_end|>'",
           "'é😀'", "'12'", "'3.5'", "'abc'", "\"it's\""]
NUMBERS = ["0", "1", "-2", "3", "7", "1.5", "-0.0", "2.0", "100", "1e3", "True", "False"]
NAMES = ["s", "n", "l", "d", "m", "t", "e", "none"]
FILTERS = ["upper", "lower", "title", "capitalize", "trim", "length", "first", "last", "list", "sort", "string",
           "int", "float", "abs", "round", "join", "join(',')", "tojson", "tojson(indent=2)", "tojson(sort_keys=true)",
           "dictsort", "default('z')", "default('z', true)", "replace('a', 'b')", "indent(2)", "center(9)",
           "truncate(5, leeway=0)", "batch(2) | list", "slice(2) | list", "unique | list", "reverse | list",
           "items | list", "map('upper') | list", "select | list", "reject | list", "sum", "min", "max", "count",
           "wordcount", "format(1)", "attr('x')", "selectattr('a') | list", "map(attribute='a') | list",
           "sort(reverse=true)", "unique(case_sensitive=true) | list", "dictsort(by='value')"]
TESTS = ["defined", "undefined", "none", "string", "number", "integer", "float", "mapping", "iterable", "sequence",
         "odd", "even", "divisibleby(3)", "eq(1)", "lower", "upper", "boolean", "true", "false", "in([1, 'a'])",
         "callable"]
METHODS = ["upper()", "lower()", "title()", "capitalize()", "strip()", "split()", "split(',')", "rsplit(' ', 1)",
           "startswith('a')", "endswith('d')", "replace('l', 'L')", "find('o')", "count('l')", "splitlines()",
           "isupper()", "islower()", "istitle()", "isdigit()", "isalpha()", "isspace()", "partition(',')",
           "removeprefix('H')", "zfill(5)", "ljust(6, '.')", "format(1, 2)", "items() | list", "keys() | list",
           "values() | list", "get('a')", "get(1, 'no')", "index(1)", "count(1)", "lstrip('H')", "rstrip('d')",
           "join(['p', 'q'])"]
OPERATORS = ["+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">=", "in", "not in", "and", "or"]
CONTEXT = {"s": "Hello World", "n": 3, "l": [3, 1, 2, 1], "d": {"b": 1, "a": 2, "A": 0},
           "m": [{"a": 1, "x": "p"}, {"a": 0, "x": "q"}, {"a": 2}], "t": "ΌΣΟΣ straße", "e": "",
           "tree": [1, [2, [3, 4]], [], [[5]]]}


class Grammar:
    def __init__(self, seed):
        self.rng = random.Random(seed)

    def literal(self, depth):
        rng = self.rng
        r = rng.random()
        if depth > 2 or r < 0.35:
            return rng.choice(STRINGS + NUMBERS + ["none"])
        if r < 0.5:
            return "[" + ", ".join(self.expr(depth + 1) for _ in range(rng.randint(0, 3))) + "]"
        if r < 0.6:
            return "(" + ", ".join(self.expr(depth + 1) for _ in range(rng.randint(1, 3))) + ",)"
        if r < 0.8:
            keys = [rng.choice(STRINGS + NUMBERS + ["none", "(1, 2)"]) for _ in range(rng.randint(0, 3))]
            return "{" + ", ".join(f"{k}: {self.expr(depth + 1)}" for k in keys) + "}"
        return rng.choice(NAMES)

    def expr(self, depth=0):
        rng = self.rng
        r = rng.random()
        e = self.literal(depth)
        if depth > 3:
            return e
        if r < 0.15:
            return f"{e} | {rng.choice(FILTERS)}"
        if r < 0.25:
            return f"({e} is {rng.choice(['', 'not '])}{rng.choice(TESTS)})"
        if r < 0.35:
            return f"{e}.{rng.choice(METHODS)}"
        if r < 0.5:
            return f"({e} {rng.choice(OPERATORS)} {self.expr(depth + 1)})"
        if r < 0.55:
            index = rng.choice(["0", "-1", "1:", "::-1", "'a'", "1", "none"])
            return rng.choice(["s", "l", "m", "d", "t"]) + "[" + index + "]"
        if r < 0.6:
            return f"({e} if {self.expr(depth + 1)} else {self.expr(depth + 1)})"
        if r < 0.65:
            return f"(not {e})"
        return e

    def template(self):
        rng = self.rng
        r = rng.random()
        if r < 0.6:
            return "{{ " + self.expr() + " }}"
        if r < 0.7:
            return ("{% for x in " + self.expr() + " %}[{{ x }}|{{ loop.index }}{{ loop.changed(x) }}]"
                    "{% else %}E{% endfor %}")
        if r < 0.8:
            f = rng.choice(["upper", "lower", "trim", "title", "replace('a','b')", "indent(1, true)", "capitalize"])
            return "{% filter " + f + " %}{{ " + self.expr() + " }} x{% endfilter %}"
        if r < 0.9:
            return "{% set v = " + self.expr() + " %}{% for k in v if k %}{{ k }};{% endfor %}{{ v | tojson }}"
        return ("{% macro f(a, b=2) %}{{ a }}{{ b }}{{ caller(a) if caller is defined }}{% endmacro %}"
                "{% call(q) f(" + self.expr() + ") %}<{{ q }}>{% endcall %}")


WHITESPACE = ["", " ", "\n", "  \n", "\n  ", "\t", " \n\n "]


class StatementGrammar:
    """Statements (if/elif/else, for with break, set, namespace attributes, with, filter, raw,
    comments) around text and newlines, with `-` and `+` on the tags."""

    def __init__(self, grammar):
        self.g = grammar
        self.rng = grammar.rng

    def tag(self, body):
        rng = self.rng
        left = rng.choice(["", "-", "+"]) if rng.random() < 0.5 else ""
        right = rng.choice(["", "-"]) if rng.random() < 0.5 else ""
        return "{%" + left + " " + body + " " + right + "%}"

    def out(self, e):
        rng = self.rng
        left = rng.choice(["", "-"]) if rng.random() < 0.3 else ""
        right = rng.choice(["", "-"]) if rng.random() < 0.3 else ""
        return "{{" + left + " " + e + " " + right + "}}"

    def expr(self):
        """Mostly expressions that render (so the whitespace around them is what is tested)."""
        if self.rng.random() < 0.75:
            return self.rng.choice(["s", "n", "l", "d", "'x'", "1", "none", "ns.v", "l | length", "s | upper",
                                    "n > 2", "'a' in s", "d.get('a')", "m[0].x", "t | title", "e", "l | sum"])
        return self.g.expr(2)

    def text(self):
        rng = self.rng
        return rng.choice(WHITESPACE) + rng.choice(["a", "x y", "", "<s>", "é"]) + rng.choice(WHITESPACE)

    def block(self, depth):
        rng, tag = self.rng, self.tag
        parts = []
        for _ in range(rng.randint(1, 4)):
            r = rng.random()
            if depth > 2 or r < 0.3:
                parts += [self.text(), self.out(self.expr())]
            elif r < 0.45:
                elif_part = tag("elif " + self.expr()) + self.block(depth + 1) if rng.random() < 0.3 else ""
                else_part = tag("else") + self.block(depth + 1) if rng.random() < 0.5 else ""
                parts.append(tag("if " + self.expr()) + self.block(depth + 1) + elif_part + else_part + tag("endif"))
            elif r < 0.6:
                seq = rng.choice(["l", "m", "range(3)", "s", "d", "[1, 2]"]) + (" if i" if rng.random() < 0.2 else "")
                brk = tag("break") if rng.random() < 0.1 else ""
                parts.append(tag("for i in " + seq) + self.block(depth + 1) + self.out("loop.index ~ i") + brk +
                             tag("endfor"))
            elif r < 0.7:
                parts.append(tag("set ns.v = ns.v ~ " + self.expr()) + self.out("ns.v"))
            elif r < 0.78:
                parts.append(tag("set w = " + self.expr()) + self.out("w"))
            elif r < 0.84:
                parts.append("{# c #}" + rng.choice(WHITESPACE))
            elif r < 0.9:
                parts.append(tag("with z = " + self.expr()) + self.block(depth + 1) + self.out("z") + tag("endwith"))
            elif r < 0.95:
                f = rng.choice(["upper", "trim", "indent(2)"])
                parts.append(tag("filter " + f) + self.block(depth + 1) + tag("endfilter"))
            else:
                parts.append(tag("raw") + "{{ x }}" + rng.choice(WHITESPACE) + tag("endraw"))
            parts.append(rng.choice(WHITESPACE))
        return "".join(parts)

    def template(self):
        rng = self.rng
        return (self.tag("set ns = namespace(v='')") + rng.choice(WHITESPACE) + self.block(0) +
                rng.choice(["", "\n", "\n\n"]))


class FunctionGrammar:
    """Macros (defaults, varargs, kwargs, caller), call blocks, recursive loops, loop attributes
    and nested loops with continue, mixed with StatementGrammar's statements."""

    def __init__(self, statements):
        self.st = statements
        self.rng = statements.rng

    def piece(self, depth):
        rng, st = self.rng, self.st
        tag, out, ex = st.tag, st.out, st.expr
        r = rng.random()
        if depth > 2 or r < 0.2:
            return st.text() + out(ex())
        if r < 0.35:
            default = rng.choice(["1", "'q'", "none", "[]"])
            args = ", ".join(ex() for _ in range(rng.randint(0, 3))) + (", k=1" if rng.random() < 0.2 else "")
            return (tag("macro mm(a, b=" + default + ")") + st.text() + out("a") + out("b") +
                    (out("varargs") if rng.random() < 0.3 else "") + (out("kwargs") if rng.random() < 0.3 else "") +
                    (out("caller(a) if caller is defined else ''") if rng.random() < 0.4 else "") +
                    tag("endmacro") + out("mm(" + args.lstrip(", ") + ")"))
        if r < 0.5:
            twice = out("caller(x ~ 'y')") if rng.random() < 0.3 else ""
            return (tag("macro cm(x)") + "<" + out("caller(x)") + ">" + twice + tag("endmacro") +
                    tag("call(v) cm(" + ex() + ")") + self.piece(depth + 1) + out("v") + tag("endcall"))
        if r < 0.65:
            return (tag("for x in tree recursive") + st.text() + tag("if x is iterable and x is not string") + "(" +
                    out("loop(x)") + ")" + tag("else") + out("x ~ loop.depth ~ loop.index ~ loop.revindex") +
                    tag("endif") + out("loop.cycle('a','b')") + tag("endfor"))
        if r < 0.8:
            seq = rng.choice(["l", "m", "range(4)", "s"]) + (" if a" if rng.random() < 0.3 else "")
            return (tag("for a in " + seq) + out("loop.previtem if loop.previtem is defined else '^'") +
                    out("loop.nextitem if loop.nextitem is defined else '$'") +
                    out("loop.first ~ loop.last ~ loop.length ~ loop.changed(a)") + tag("for b in [1, 2]") +
                    out("a ~ b ~ loop.index0") + (tag("continue") if rng.random() < 0.3 else "") + tag("endfor") +
                    tag("endfor"))
        return st.block(depth + 1)

    def template(self):
        rng, st = self.rng, self.st
        return st.tag("set ns = namespace(v='')") + "".join(
            self.piece(0) + rng.choice(["", "\n", " \n "]) for _ in range(rng.randint(1, 3)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--statements", type=int, default=500)
    ap.add_argument("--functions", type=int, default=300)
    args = ap.parse_args()
    env = make_env()
    grammar = Grammar(args.seed)
    statements = StatementGrammar(grammar)
    functions = FunctionGrammar(statements)
    cases = []
    for i in range(args.count + args.statements + args.functions):
        if i < args.count:
            source = grammar.template()
        elif i < args.count + args.statements:
            source = statements.template()
        else:
            source = functions.template()
        case = {"template": source}
        try:
            # A fresh copy each time: Jinja2's indent filter appends to a list it is given.
            case["output"] = env.from_string(source).render(**copy.deepcopy(CONTEXT))
        except RaisedByTemplate as e:
            case["raises"] = str(e)
        except Exception as e:  # noqa: BLE001 - any failure: the C++ side must fail too
            case["fails"] = f"{type(e).__name__}: {e}"
        cases.append(case)
    out = {"generated_by": "tests/tools/reference/gen_template_random.py", "jinja2_version": jinja2.__version__,
           "seed": args.seed, "context": CONTEXT, "cases": cases}
    OUT.write_bytes((json.dumps(out, ensure_ascii=False, indent=0) + "\n").encode("utf-8"))
    failing = sum(1 for c in cases if "output" not in c)
    print(f"wrote {len(cases)} cases ({failing} fail in Jinja2) to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
