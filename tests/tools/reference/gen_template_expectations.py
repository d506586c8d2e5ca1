#!/usr/bin/env python3
"""Writes tests/data/templates/expected.json: what Jinja2 renders, the way Hugging Face
transformers renders chat templates, for every template in tests/data/templates/*.jinja and
every message set in tests/data/templates/message_sets.json.

transformers (utils/chat_template_utils.py, _compile_jinja_template) uses
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with the loopcontrols
extension, a `tojson` filter that is json.dumps(x, ensure_ascii=False, indent=..., ...), and a
`raise_exception` global that raises TemplateError(message). It renders with
messages=..., tools=..., documents=..., add_generation_prompt=..., plus the tokenizer's
special tokens (bos_token, eos_token, ...); tools and documents are None when not given.

The C++ test (tests/test_chat_template.cpp) renders the same (template, context) pairs and
compares exactly; it never runs Python. Rerun this after changing the templates or message
sets, and commit the output:

    python3 tests/tools/reference/gen_template_expectations.py
"""

import json
import pathlib
import sys

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

DATA = pathlib.Path(__file__).resolve().parents[2] / "data" / "templates"

# Special tokens each template is rendered with (what its tokenizer_config.json would give).
SPECIAL_TOKENS = {
    "chatml.jinja": {"bos_token": "<|begin_of_text|>", "eos_token": "<|im_end|>"},
    "deepseek_r1.jinja": {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜end▁of▁sentence｜>"},
    "gemma.jinja": {"bos_token": "<bos>", "eos_token": "<eos>"},
    "llama3.jinja": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "qwen2_5.jinja": {"bos_token": None, "eos_token": "<|im_end|>"},
}
DEFAULT_SPECIAL_TOKENS = {"bos_token": "<s>", "eos_token": "</s>"}


class RaisedByTemplate(jinja2.exceptions.TemplateError):
    """What raise_exception() raises, told apart from Jinja's own errors."""


def raise_exception(message):
    raise RaisedByTemplate(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def make_env():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


def main():
    env = make_env()
    message_sets = json.loads((DATA / "message_sets.json").read_bytes().decode("utf-8"))
    contexts = {}
    for name, spec in message_sets.items():
        contexts[name] = {
            "messages": spec["messages"],
            "tools": spec.get("tools"),
            "documents": None,
            "add_generation_prompt": spec["add_generation_prompt"],
        }

    templates = {}
    cases = []
    for path in sorted(DATA.glob("*.jinja")):
        source = path.read_bytes().decode("utf-8")  # no newline translation: the test reads bytes
        compiled = env.from_string(source)
        special = SPECIAL_TOKENS.get(path.name, DEFAULT_SPECIAL_TOKENS)
        templates[path.name] = special
        for name, context in contexts.items():
            case = {"template": path.name, "message_set": name}
            try:
                case["output"] = compiled.render(**context, **special)
            except RaisedByTemplate as e:
                case["raises"] = str(e)  # the test expects exactly this message
            except jinja2.exceptions.TemplateError as e:
                case["fails"] = f"{type(e).__name__}: {e}"  # the test expects some error
            except TypeError as e:
                case["fails"] = f"TypeError: {e}"
            cases.append(case)

    out = {
        "generated_by": "tests/tools/reference/gen_template_expectations.py",
        "jinja2_version": jinja2.__version__,
        "templates": templates,
        "contexts": contexts,
        "cases": cases,
    }
    text = json.dumps(out, ensure_ascii=False, indent=1) + "\n"
    (DATA / "expected.json").write_bytes(text.encode("utf-8"))
    failing = sum(1 for c in cases if "output" not in c)
    print(f"wrote {len(cases)} cases ({failing} expected to fail) to {DATA / 'expected.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
