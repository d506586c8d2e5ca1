#!/usr/bin/env python3
"""Writes tests/data/template_corpus/expected.json: what Jinja2 renders for every template of
templates.json with every conversation of conversations.json, configured as Hugging Face
transformers configures it (see gen_template_expectations.py: ImmutableSandboxedEnvironment
with trim_blocks, lstrip_blocks and the loopcontrols extension; `tojson` as
json.dumps(ensure_ascii=False); raise_exception; strftime_now).

A conversation's "variables" are passed as extra template variables, as transformers passes
apply_chat_template's extra keyword arguments (enable_thinking, date_string, ...).

strftime_now formats a fixed time (NOW below) so the expectations do not change from day to
day; the C++ test gives the renderer the same time through its clock seam.

Each case holds one of: "output" (byte for byte), "raises" (the template called
raise_exception with exactly this message) or "fails" (Jinja2 rejected the template or failed
while rendering it; the C++ side must fail too, naming a line and column; "line" is the line
Jinja2 reported or was running, for comparison).

    python3 tests/tools/reference/gen_template_corpus.py
"""

import datetime
import json
import pathlib
import sys
import traceback

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

DATA = pathlib.Path(__file__).resolve().parents[2] / "data" / "template_corpus"
NOW = datetime.datetime(2024, 7, 26, 9, 30, 5)


class RaisedByTemplate(jinja2.exceptions.TemplateError):
    """What raise_exception() raises, told apart from Jinja's own errors."""


def raise_exception(message):
    raise RaisedByTemplate(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return NOW.strftime(format)


class Generation(jinja2.ext.Extension):
    """transformers' AssistantTracker: {% generation %}...{% endgeneration %} renders its body
    (transformers also records where, for assistant masks; rendering is unchanged)."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_env():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols, Generation])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def failing_line(error):
    """The template line Jinja2 was running when `error` was raised (its traceback names the
    template's own lines), or None."""
    lines = [f.lineno for f in traceback.extract_tb(error.__traceback__) if f.filename == "<template>"]
    return lines[-1] if lines else None


def context_of(conversation, special_tokens):
    context = {
        "messages": conversation["messages"],
        "tools": conversation.get("tools"),
        "documents": conversation.get("documents"),
        "add_generation_prompt": conversation["add_generation_prompt"],
    }
    context.update(special_tokens)
    context.update(conversation.get("variables", {}))  # apply_chat_template(**kwargs)
    return context


def main():
    env = make_env()
    templates = json.loads((DATA / "templates.json").read_bytes().decode("utf-8"))
    conversations = json.loads((DATA / "conversations.json").read_bytes().decode("utf-8"))
    cases = []
    for name, spec in templates.items():
        try:
            compiled = env.from_string(spec["template"])
            compile_error = None
        except jinja2.exceptions.TemplateSyntaxError as e:
            compiled, compile_error = None, f"TemplateSyntaxError: line {e.lineno}: {e.message}"
            compile_line = e.lineno
        for conv_name, conversation in conversations.items():
            case = {"template": name, "conversation": conv_name}
            if compiled is None:
                case["fails"] = compile_error
                case["line"] = compile_line
            else:
                try:
                    case["output"] = compiled.render(**context_of(conversation, spec["special_tokens"]))
                except RaisedByTemplate as e:
                    case["raises"] = str(e)
                except (jinja2.exceptions.TemplateError, TypeError, ValueError, KeyError, IndexError,
                        AttributeError) as e:
                    case["fails"] = f"{type(e).__name__}: {e}"
                    case["line"] = failing_line(e)
            cases.append(case)

    out = {
        "generated_by": "tests/tools/reference/gen_template_corpus.py",
        "jinja2_version": jinja2.__version__,
        "now": NOW.isoformat(),
        "cases": cases,
    }
    text = json.dumps(out, ensure_ascii=False, indent=1) + "\n"
    (DATA / "expected.json").write_bytes(text.encode("utf-8"))
    counts = {k: sum(1 for c in cases if k in c) for k in ("output", "raises", "fails")}
    print(f"wrote {len(cases)} cases {counts} to {DATA / 'expected.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
