#!/usr/bin/env python3
"""Writes tests/data/templates/features.json: small templates, one Jinja2 feature each (dict
keys of every hashable type, filter and call blocks, recursive loops, loop.changed/cycle,
namespaces, Unicode case mapping, strftime_now), and what Jinja2 does with them, configured as
transformers configures it (gen_template_corpus.make_env, with its fixed strftime_now time).
tests/text/test_chat_template.cpp compares byte for byte.

    python3 tests/tools/reference/gen_template_features.py
"""

import json
import pathlib
import sys

import jinja2

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from gen_template_corpus import NOW, RaisedByTemplate, make_env  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[2] / "data" / "templates" / "features.json"

MESSAGES = [{"role": "system", "content": "Sys"}, {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Yo"}]
UNICODE = "ǅemal ß ﬁ ΣΑΣ ΑΣ. İstanbul Ǆ ŉ ᾳ Ωmega (élan) [ǆ]-ꭰ 𐐨𐐀 ΌΣΟΣ'Σ Σ"
TREE = [{"name": "a", "children": [{"name": "b", "children": [{"name": "c", "children": []}]},
                                   {"name": "d", "children": []}]}, {"name": "e", "children": []}]

FEATURES = [
    ("int keys", "{% set m = {0: 0, 512: 128, 16384: 4096} %}{{ m | dictsort }}|{{ m[16384] }}|{{ m[512] }}|"
     "{% for k, v in m.items() %}{{ k }}={{ v }};{% endfor %}|{{ m.get(0) }}|{{ 512 in m }}|{{ 3 in m }}|"
     "{{ m | tojson }}|{{ m | length }}|{{ m.keys() | list }}|{{ m | dictsort(by='value', reverse=true) }}", {}),
    ("any hashable key", "{{ {1: 'a', True: 'b', 1.0: 'c'} }}|{{ {(1, 2): 'pair', none: 'n', false: 'f'}[(1, 2)] }}|"
     "{{ {none: 1}[none] }}|{{ {2: 'b', 1: 'a'} | dictsort(reverse=true) }}|{{ {2.5: 'x', none: 1, true: 2} | tojson }}|"
     "{{ {'a': 1}[[1]] }}|{{ {(1, 'x'): 2} }}|{{ {0: 'zero'}[0.0] }}|{{ {0: 1} == {0.0: 1} }}", {}),
    ("keys from the context stay strings", "{{ d['1'] }}|{{ d[1] }}|{{ d | tojson }}", {"d": {"1": "one"}}),
    ("dictsort of mixed keys fails", "{{ {0: 0, 'a': 1} | dictsort }}", {}),
    ("unhashable key fails", "{{ {[1]: 2} }}", {}),
    ("unhashable membership fails", "{{ [1] in {'a': 1} }}", {}),
    ("tojson of tuple keys fails", "{{ {(1, 2): 3} | tojson }}", {}),
    ("filter block", "{% set x = 1 %}{% filter upper %}{% set x = 2 %}a{{ x }}{% endfilter %}{{ x }}", {}),
    ("nested filter blocks with arguments",
     "{% filter upper|replace('A', 'b') %}aa{% filter lower %}XY{% endfilter %}{% endfilter %}|"
     "{% filter indent(2, true) %}a\nb{% endfilter %}|{% filter trim %}  x  {% endfilter %}|"
     "{%- filter replace('\n', ' ') -%}\n  one\n  two\n{%- endfilter %}", {}),
    ("filter block around set blocks",
     "{% filter upper %}{% set s %}in{% endset %}[{{ s }}]{% endfilter %}|"
     "{% set x | upper | replace('I', '1') %}hi {{ 'there' }}{% endset %}{{ x }}|"
     "{% set t %}{% filter title %}two words{% endfilter %}{% endset %}{{ t }}", {}),
    ("call block", "{% macro m(a) %}[{{ caller(a) }}|{{ caller(a + 1) }}]{% endmacro %}{% set y = 'Y' %}"
     "{% call(v) m(3) %}v={{ v }}{{ y }}{% endcall %}", {}),
    ("call block in a loop", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}"
     "{% for m in messages %}{% call wrap(m.role) %}{{ m.content }}{{ loop.index }}{% endcall %}{% endfor %}",
     {"messages": MESSAGES}),
    ("call block with defaults and nesting",
     "{% macro outer() %}({{ caller() }}){% endmacro %}{% macro inner(x) %}[{{ caller(x, 'k') }}]{% endmacro %}"
     "{% call outer() %}{% call(a, b='d', c='e') inner(1) %}{{ a }}{{ b }}{{ c }}{% endcall %}{% endcall %}", {}),
    ("macro without caller refuses one", "{% macro m(a) %}[{{ a }}]{% endmacro %}{% call m(3) %}x{% endcall %}", {}),
    ("varargs and kwargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, k=4) }}|"
     "{{ m(5) }}", {}),
    ("too many arguments", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}", {}),
    ("caller undefined outside a call block", "{% macro m() %}[{{ caller }}]{% endmacro %}{{ m() }}", {}),
    ("recursive loop", "{% for x in [1, [2, [3]], 4] recursive %}{% if x is iterable %}<{{ loop(x) }}>"
     "{% else %}{{ x }}@{{ loop.depth }}{{ loop.depth0 }}{{ loop.index }}{% endif %}{% endfor %}", {}),
    ("recursive tree", "{% for n in tree recursive %}{{ n.name }}{% if n.children %}({{ loop(n.children) }})"
     "{% endif %}{{ ',' if not loop.last }}{% endfor %}", {"tree": TREE}),
    ("recursive loop with filter and else", "{% for n in tree if n.name != 'd' recursive %}{{ n.name }}"
     "[{{ loop(n.children) }}]{% else %}-{% endfor %}", {"tree": TREE}),
    ("calling a loop that is not recursive fails", "{% for x in [1] %}{{ loop(x) }}{% endfor %}", {}),
    ("loop.changed and loop.cycle", "{% for x in [1, 1, 2, 3, 3] %}{% if loop.changed(x) %}{{ x }}{% endif %}"
     "{% endfor %}|{% for a, b in [(1, 2), (1, 2), (1, 3)] %}{{ loop.changed(a, b) }}{% endfor %}|"
     "{% for x in range(5) %}{{ loop.cycle('a', 'b', 'c') }}{% endfor %}|"
     "{% for m in messages %}{{ loop.changed() }}{% endfor %}", {"messages": MESSAGES}),
    ("namespace edge cases", "{% set ns = namespace(a=1) %}{% set ns.b = [ns.a] %}{% for i in range(3) %}"
     "{% set ns.a = ns.a + i %}{% endfor %}{{ ns.a }} {{ ns.b }} {{ ns['a'] }} {{ ns.missing is defined }} "
     "{{ ns }} {{ ns.items is defined }}|{% set n2 = namespace({'x': 1, 2: 'two'}, y=2) %}{{ n2.x + n2.y }}"
     "{{ n2 is mapping }}{{ n2 | length if n2 is iterable else 'n' }}|"
     "{% set c = namespace(n=0) %}{% macro bump() %}{% set c.n = c.n + 1 %}{% endmacro %}{{ bump() }}{{ bump() }}"
     "{{ c.n }}|{% macro m() %}{{ caller() }}{% endmacro %}{% call m() %}{% set c.n = 10 %}{% endcall %}{{ c.n }}|"
     "{% if true %}{% set c.n = c.n * 2 %}{% endif %}{{ c.n }}", {}),
    ("namespace attribute of a non-namespace fails", "{% set d = {'a': 1} %}{% set d.a = 2 %}", {}),
    ("unicode case mapping", "{{ s | upper }}|{{ s | lower }}|{{ s | title }}|{{ s | capitalize }}|{{ s.title() }}|"
     "{{ s.upper() }}|{{ s.lower() }}|{{ s.capitalize() }}|{{ s.isupper() }}{{ s.islower() }}|"
     "{{ 'ΑΣ ' | lower }}{{ 'ΑΣ.' | lower }}{{ 'Α.Σ' | lower }}{{ 'ΑΣΑ' | lower }}|{{ 'ǅ' is upper }}"
     "{{ 'ǅ' is lower }}{{ 'ꭰ' is lower }}{{ 'ABC' is upper }}{{ 'abc1' is lower }}{{ '1' is lower }}",
     {"s": UNICODE}),
    ("more filters", "{{ '%s-%d' | format('a', 3) }}|{{ 'x' | center(5) }}|{{ 'ab' | center(7) }}|"
     "{{ 'The quick brown fox jumps' | truncate(12) }}|{{ 'The quick brown fox jumps' | truncate(12, true, '..', 0) }}|"
     "{{ 'short' | truncate(3, leeway=5) }}|{{ [1, 2, 3, 4, 5] | batch(2) | list }}|"
     "{{ [1, 2, 3, 4, 5] | batch(2, 0) | list }}|{{ [1, 2, 3, 4, 5] | slice(3) | list }}|"
     "{{ [1, 2, 3, 4] | slice(3, 'x') | list }}", {}),
    ("more string methods", "{{ 'Hello World'.istitle() }}{{ 'Hello world'.istitle() }}{{ 'ǅungla'.istitle() }}|"
     "{{ 'tool_get'.removeprefix('tool_') }}{{ 'a.json'.removesuffix('.json') }}{{ 'x'.removesuffix('') }}|"
     "{{ 'k=v=w'.partition('=') }}{{ 'k=v=w'.rpartition('=') }}{{ 'kv'.partition('=') }}{{ 'kv'.rpartition('=') }}|"
     "[{{ 'ab'.center(7, '*') }}][{{ 'ab'.ljust(4) }}][{{ 'ab'.rjust(4, '.') }}][{{ '-42'.zfill(6) }}]|"
     "{{ '{} and {}!'.format('a', 1) }} {{ '{1}{0}'.format('x', 'y') }} {{ '{n!r} {{}}'.format(n='q') }}", {}),
    ("with blocks", "{% set a = 1 %}{% with a = a + 1, b = a %}{{ a }}{{ b }}{% set c = 3 %}{% endwith %}{{ a }}"
     "{{ c is defined }}|{% for i in range(3) %}{% with j = i * 2 %}{% if j == 4 %}{% break %}{% endif %}{{ j }}"
     "{% endwith %}{% endfor %}", {}),
    ("filters on values that are not strings", "{{ 3 | safe ~ 'x' }}|{{ d | safe | length }}|{{ d | truncate(5) }}|"
     "{{ [] | truncate(5) }}|{{ none | map('upper') | list }}{{ 0 | select | list }}{{ '' | map(attribute='a') | list }}|"
     "{{ 'Hello' % l }}{{ 'Hi %s' % l }}|{{ (1, 2) + (3,) }}", {"d": {"a": 1, "b": 2}, "l": [1, 2]}),
    ("float division and character classes", "{{ -0.0 % 2.0 }} {{ 1 // 0.1 }} {{ 1 % 0.1 }} {{ -7.5 // 2 }} "
     "{{ 7.5 % -2 }} {{ -0.0 // 3.0 }}|{{ 'é😀'.isalpha() }}{{ 'é'.isalpha() }}{{ '你好'.isalpha() }}{{ '٣'.isdigit() }}"
     "{{ '²'.isdigit() }}{{ '²'.isdecimal() }}{{ '½'.isalnum() }}{{ 'x1'.isalnum() }}{{ ''.isalpha() }}", {}),
    ("groupby", "{{ m | groupby('r', default='none') }}|{% for g, items in m | groupby('r', default='none') %}"
     "{{ g }}={{ items | map(attribute='c') | list }};{% endfor %}|{% for g in m | groupby('r', default='z', "
     "case_sensitive=true) %}{{ g.grouper }}:{{ g.list | length }} {{ g[0] }};{% endfor %}|"
     "{{ (m | groupby('c'))[1].list[0].c }}",
     {"m": [{"r": "User", "c": 1}, {"r": "bot", "c": 2}, {"r": "user", "c": 3}, {"c": 4}]}),
    ("groupby without a default fails on a missing attribute", "{{ m | groupby('r') }}", {"m": [{"r": 1}, {}]}),
    ("indent of a number fails", "{{ 100 | indent(2) }}", {}),
    ("list plus tuple fails", "{{ [1] + (2,) }}", {}),
    ("unique of dicts fails", "{{ [{}, {}] | unique | list }}", {}),
    ("slicing a number fails", "{{ n[1:] }}", {"n": 3}),
    ("slice with a string index fails", "{{ l['a':] }}", {"l": [1]}),
    ("strftime_now", "{{ strftime_now('%Y-%m-%d %H:%M:%S %a %A %b %B %d %j %p %y') }}", {}),
]


def main():
    env = make_env()
    cases = []
    for name, source, context in FEATURES:
        case = {"name": name, "template": source, "context": context}
        try:
            case["output"] = env.from_string(source).render(**context)
        except RaisedByTemplate as e:
            case["raises"] = str(e)
        except (jinja2.exceptions.TemplateError, TypeError, ValueError) as e:
            case["fails"] = f"{type(e).__name__}: {e}"
        cases.append(case)
    out = {"generated_by": "tests/tools/reference/gen_template_features.py", "jinja2_version": jinja2.__version__,
           "now": NOW.isoformat(), "cases": cases}
    OUT.write_bytes((json.dumps(out, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    print(f"wrote {len(cases)} cases to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
