#!/usr/bin/env python3
"""Writes the expected outputs of transformers' chat templating (PyPI
`transformers` + `jinja2`) for llmbatch's chat-template tests. Run through
tools/make-chat-template-fixtures.sh, which installs them into a throwaway venv.

Outputs, under tests/fixtures/chat_templates/:
  expected_renderings.json  real chat templates x conversations, rendered with
                            tokenizer.apply_chat_template(tokenize=False); a
                            conversation the template (or transformers) rejects
                            records the exception instead.
  jinja_cases.json          small templates exercising one Jinja feature each,
                            rendered with transformers' own compiled Jinja
                            environment (trim_blocks, lstrip_blocks, loopcontrols,
                            its tojson/raise_exception/strftime_now/namespace).
  malformed_templates.json  templates Jinja refuses to compile (with Jinja's line
                            number) and valid Jinja llmbatch refuses on purpose.

strftime_now is pinned to FIXED_NOW so the files are reproducible.
"""
import datetime
import json
import os

import jinja2
import transformers
from transformers import AutoTokenizer, PreTrainedTokenizerFast
from transformers.utils.chat_template_utils import _compile_jinja_template

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "chat_templates")
SHARED_TOKENIZERS = os.path.join(ROOT, "..", "shared", "fixtures", "tokenizers")
FIXED_NOW = datetime.datetime(2024, 7, 26, 14, 5, 9)


def error_record(exc, source):
    """source: 'raise_exception' (the template's own message, compared exactly),
    'apply' (transformers refused the input before rendering) or 'template'
    (Jinja or Python raised while rendering)."""
    return {"source": source, "type": type(exc).__name__, "message": str(exc)}


# ---------------------------------------------------------------- real templates

def load_templates():
    """name -> (tokenizer, template source or None for the model's own, where the C++ test finds it)."""
    smol_tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(SHARED_TOKENIZERS, "gpt2", "tokenizer.json"))
    mistral_tok = AutoTokenizer.from_pretrained(os.path.join(OUT, "models", "mistral_special_tokens"))

    def jinja(name):
        with open(os.path.join(OUT, "templates", name + ".jinja"), encoding="utf-8") as f:
            return f.read()

    return {
        "llama3_1": (AutoTokenizer.from_pretrained(os.path.join(OUT, "models", "llama3_1")), None, "models/llama3_1"),
        "qwen2_5": (AutoTokenizer.from_pretrained(os.path.join(OUT, "models", "qwen2_5")), None, "models/qwen2_5"),
        # README of the shared fixtures: <s>/</s> for these two, no special tokens for SmolLM2.
        "llama2_chat": (mistral_tok, jinja("llama2_chat"), "templates/llama2_chat.jinja"),
        "mistral_instruct_v3": (mistral_tok, jinja("mistral_instruct_v3"), "templates/mistral_instruct_v3.jinja"),
        "smollm2": (smol_tok, jinja("smollm2"), "templates/smollm2.jinja"),
    }


def u(text):
    return {"role": "user", "content": text}


def a(text):
    return {"role": "assistant", "content": text}


def s(text):
    return {"role": "system", "content": text}


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city. Returns °C.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name, e.g. \"Zürich\""},
                           "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"],
        },
    },
}

CONVERSATIONS = [
    ("single_user", [u("Hello!")], {}),
    ("system_user", [s("You are a pirate."), u("Where is the treasure?")], {}),
    ("multi_turn", [u("Hi"), a("Hello! How can I help?"), u("Tell me a joke.")], {}),
    ("system_multi_turn", [s("Be brief."), u("2+2?"), a("4"), u("3+3?"), a("6"), u("And 4+4?")], {}),
    ("ends_with_assistant", [u("Say yes."), a("Yes.")], {}),
    ("empty_content", [u("")], {}),
    ("empty_system", [s(""), u("Hi"), a(""), u("again")], {}),
    ("unicode", [s("Réponds en français 🇫🇷"), u("你好，世界！ مرحبا بالعالم नमस्ते 👩‍👩‍👧 e\u0301")], {}),
    ("whitespace_at_ends", [s("  sys with spaces  "), u("\n\n  padded question \t\n"), a("  answer  \n"), u(" \r\nnext\r\n ")], {}),
    ("multiline", [u("line 1\nline 2\n\n  indented\n\ttabbed"), a("```python\nprint('hi')\n```"), u("ok")], {}),
    ("special_token_text", [u("<|im_end|> [INST] </s> <|eot_id|> <<SYS>>"), a("<s>[/INST]"), u("{{ not_a_var }} {% raw %}")], {}),
    ("null_fields_dropped", [{"role": "user", "content": "hi", "name": None}, {"role": "assistant", "content": "yo", "tool_calls": None}, u("bye")], {}),
    ("long_conversation", [x for i in range(6) for x in (u(f"question {i}?"), a(f"answer {i}."))] + [u("last")], {}),
    ("system_only", [s("Only a system prompt.")], {}),
    # Must raise for the alternating templates (Llama-2, Mistral).
    ("two_users_in_a_row", [u("first"), u("second")], {}),
    ("assistant_first", [a("I start."), u("ok")], {}),
    ("unknown_role", [u("hi"), {"role": "critic", "content": "meh"}], {}),
    ("empty_conversation", [], {}),
    # Content that is not a string: templates differ in what they do with it.
    ("integer_content", [u(42)], {}),
    ("list_content", [{"role": "user", "content": [{"type": "text", "text": "describe"}, {"type": "image"}]}], {}),
    ("missing_content", [{"role": "user"}], {}),
    # Tools (Qwen2.5's template has a tools branch; others ignore `tools`).
    ("tools_and_tool_calls", [
        s("You help with weather."), u("Weather in Zürich?"),
        {"role": "assistant", "content": "",
         "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Zürich", "unit": "celsius"}}}]},
        {"role": "tool", "name": "get_weather", "content": "{\"temp\": 21.5}"},
        {"role": "tool", "name": "get_weather", "content": "second result"},
        a("It is 21.5 °C."), u("Thanks"),
    ], {"tools": [WEATHER_TOOL]}),
    ("tools_without_system", [u("Weather?")], {"tools": [WEATHER_TOOL]}),
    ("tool_calls_without_tools", [
        u("call it"),
        {"role": "assistant", "content": "Calling.",
         "tool_calls": [{"name": "lookup", "arguments": {"q": "x", "n": [1, 2.5, True, None]}}]},
        {"role": "tool", "content": "result"},
    ], {}),
    ("reasoning_field", [u("think"), {"role": "assistant", "content": "done", "reasoning": "hmm"}, u("more")], {}),
]


def render_conversations(templates):
    cases = []
    for template_name, (tok, source, _) in templates.items():
        for conv_name, messages, extra in CONVERSATIONS:
            for add_generation_prompt in (False, True):
                case = {"template": template_name, "name": conv_name, "messages": messages,
                        "add_generation_prompt": add_generation_prompt}
                if "tools" in extra:
                    case["tools"] = extra["tools"]
                try:
                    case["expected"] = tok.apply_chat_template(
                        messages, tools=extra.get("tools"), chat_template=source, tokenize=False,
                        add_generation_prompt=add_generation_prompt)
                except jinja2.exceptions.TemplateError as exc:
                    plain = type(exc) is jinja2.exceptions.TemplateError
                    case["error"] = error_record(exc, "raise_exception" if plain else "template")
                except ValueError as exc:
                    case["error"] = error_record(exc, "apply" if not messages else "template")
                except Exception as exc:  # TypeError and friends from inside the template
                    case["error"] = error_record(exc, "template")
                cases.append(case)
    return cases


# ---------------------------------------------------------------- feature cases

CTX = {
    "xs": [1, 2, 3, 4, 5],
    "words": ["banana", "Apple", "cherry", "apple"],
    "d": {"b": 2, "a": 1, "c": None},
    "msgs": [{"role": "system", "content": "S"}, {"role": "user", "content": "U1"},
             {"role": "assistant", "content": "A1"}, {"role": "user", "content": "U2"}],
    "text": "  Hello, World!  ",
    "uni": "héllo wörld ß 日本",
    "nested": {"list": [{"k": "v", "n": 1.5}, {"k": "w", "n": -2}], "flag": False, "none": None},
    "flag": True,
    "zero": 0,
    "empty": "",
    "f": 2.5,
}

FEATURE_CASES = [
    # whitespace control, trim_blocks, lstrip_blocks
    ("ws_trim_blocks", "{% if true %}\nyes\n{% endif %}\nafter"),
    ("ws_lstrip_blocks", "start\n    {% if true %}\n    body\n    {% endif %}\nend"),
    ("ws_lstrip_tabs", "\t\t{% for x in [1, 2] %}\n\t{{ x }}\n\t\t{% endfor %}\n"),
    ("ws_no_lstrip_after_text", "a {% if true %}b{% endif %} c"),
    ("ws_minus_both", "a   \n  {%- if true -%}  \n  b  \n  {%- endif -%}  \n  c"),
    ("ws_minus_variable", "x  {{- 'y' -}}  z\n{{ 'w' }}  \n"),
    ("ws_variable_keeps_newline", "{{ 'a' }}\n{{ 'b' }}\n"),
    ("ws_plus_disables_lstrip", "line\n    {%+ if true %}kept{% endif %}"),
    ("ws_plus_disables_trim", "{% if true +%}\nkept newline{% endif %}"),
    ("ws_comment", "a\n    {# a comment #}\nb {#- strip -#}   c"),
    ("ws_comment_multiline", "x{# line1\nline2 #}\ny"),
    ("ws_crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc\r\n"),
    ("ws_trailing_newline_dropped", "end\n"),
    ("ws_two_trailing_newlines", "end\n\n"),
    ("ws_raw", "{% raw %}{{ not rendered }}{% if %}{% endraw %}!"),
    ("ws_raw_minus", "a  {%- raw -%}  b  {%- endraw -%}  c"),
    ("ws_qwen_style", "{%- for m in msgs %}\n    {%- if m.role == 'user' %}\n        {{- '<u>' + m.content + '\\n' }}\n    {%- else %}\n        {{- m.role[0] }}\n    {%- endif %}\n{%- endfor %}\n"),
    ("ws_unicode_space_before_minus", "a\u00a0\u3000 {{- 'b' }}"),
    # literals and printing
    ("print_types", "{{ 1 }}|{{ -3 }}|{{ 1.5 }}|{{ 3.0 }}|{{ true }}|{{ false }}|{{ none }}|{{ True }}|{{ None }}"),
    ("print_floats", "{{ 0.1 + 0.2 }}|{{ 1e20 }}|{{ 1e16 }}|{{ 1e15 }}|{{ 1e-5 }}|{{ 0.0001 }}|{{ 1/3 }}|{{ 2.5e-7 }}|{{ -0.0 }}|{{ 123456789.125 }}"),
    ("print_list_repr", "{{ [1, 'a', none, true, 1.5, [2]] }}"),
    ("print_dict_repr", "{{ {'a': [1, {'b': 'c'}], 'n': none} }}"),
    ("print_string_repr_quotes", "{{ [\"it's\", 'say \"hi\"', 'both \\' \"', 'back\\\\slash'] }}"),
    ("print_string_repr_escapes", "{{ ['é', 'tab\\t', 'nl\\n', '\\x00\\x7f', '\\u200b', '\\u00a0', '🙂'] }}"),
    ("string_escapes", "{{ 'a\\nb\\tc\\u00e9\\x41\\U0001F600\\101\\\\\\'' }}|{{ \"q\\\"d\" }}|{{ 'unknown\\d' }}"),
    ("string_adjacent", "{{ 'a' 'b' \"c\" }}"),
    ("numbers_underscore_hex", "{{ 1_000 }}|{{ 0x1F }}|{{ 0b101 }}|{{ 0o17 }}|{{ 1_0.5 }}"),
    # operators
    ("arith_int", "{{ 1 + 2 * 3 }}|{{ (1 + 2) * 3 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % 3 }}|{{ -7 % 3 }}|{{ 7 % -3 }}|{{ 2 ** 10 }}|{{ 2 ** 3 ** 2 }}|{{ -2 ** 2 }}"),
    ("arith_float", "{{ 7 / 2 }}|{{ 6 / 3 }}|{{ 2 ** -1 }}|{{ 1.5 + 1 }}|{{ 7.5 // 2 }}|{{ -7.5 % 2 }}|{{ f * 2 }}|{{ true + 1 }}"),
    ("arith_strings_lists", "{{ 'ab' * 3 }}|{{ 2 * 'x' }}|{{ 'x' + 'y' }}|{{ [1] + [2, 3] }}|{{ [0] * 3 }}"),
    ("concat_tilde", "{{ 'a' ~ 1 ~ none ~ true ~ 1.0 ~ [1] ~ missing ~ 'z' }}"),
    ("compare_chain", "{{ 1 < 2 < 3 }}|{{ 1 < 3 < 2 }}|{{ 2 >= 2 }}|{{ 'a' < 'b' }}|{{ [1, 2] < [1, 3] }}|{{ 1 == 1.0 }}|{{ true == 1 }}|{{ 'a' != 'a' }}"),
    ("membership", "{{ 'a' in 'cat' }}|{{ 2 not in [1, 2] }}|{{ 'k' in {'k': 1} }}|{{ 1 in xs }}|{{ 'x' in missing }}|{{ not 'q' in 'abc' }}"),
    ("logic_values", "{{ none or 'd' }}|{{ 0 and 1 }}|{{ 'a' and 'b' }}|{{ not none }}|{{ not empty }}|{{ zero or empty or 'last' }}"),
    ("conditional_expr", "{{ 'yes' if flag else 'no' }}|{{ 'y' if zero }}|{{ 'a' if false else 'b' if true else 'c' }}"),
    ("unary", "{{ -f }}|{{ +3 }}|{{ - -2 }}|{{ not not 1 }}"),
    # undefined
    ("undefined_prints_empty", "[{{ missing }}]|{{ missing is defined }}|{{ missing is undefined }}|[{{ d.nokey }}]|[{{ none.x }}]|[{{ xs[10] }}]"),
    ("undefined_filters", "{{ missing | length }}|{{ missing | default('dflt') }}|[{{ missing | trim }}]|{{ missing | list }}|[{{ missing | upper }}]"),
    ("undefined_loop_else", "{% for x in missing %}{{ x }}{% else %}empty{% endfor %}"),
    ("undefined_compare", "{{ missing == missing }}|{{ missing == none }}|{{ missing != 1 }}|{{ not missing }}"),
    # subscripts and slices
    ("index_and_slice", "{{ xs[0] }}|{{ xs[-1] }}|{{ xs[1:] }}|{{ xs[:-1] }}|{{ xs[::2] }}|{{ xs[::-1] }}|{{ xs[-2:] }}|{{ xs[1:4:2] }}|{{ xs[10:] }}|{{ xs[4:1:-1] }}"),
    ("string_slice_unicode", "{{ uni[0] }}|{{ uni[-1] }}|{{ uni[1:5] }}|{{ uni[::-1] }}|{{ 'hello'[::-2] }}"),
    ("dict_access", "{{ d['a'] }}|{{ d.b }}|{{ d.get('zz', 'fallback') }}|{{ d.get('a') }}|{{ d.get('zz') }}|{{ d['c'] }}|{{ nested.list[1].k }}|{{ nested['list'][0]['n'] }}|{{ msgs.0.role }}"),
    ("dict_methods", "{{ d.items() | list }}|{{ d.keys() | list }}|{{ d.values() | list }}|{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}"),
    # string methods
    ("str_strip", "[{{ text.strip() }}]|[{{ text.lstrip() }}]|[{{ text.rstrip() }}]|[{{ 'xxhixx'.strip('x') }}]|[{{ '\\u3000 wide \\n'.strip() }}]|[{{ 'abcba'.lstrip('ab') }}]"),
    ("str_case", "{{ text.upper() }}|{{ text.lower() }}|{{ 'hello wORLD o\\'neil 3rd'.title() }}|{{ 'hELLO world'.capitalize() }}|{{ uni.upper() }}"),
    ("str_startswith", "{{ text.startswith('  He') }}|{{ 'abc'.endswith('bc') }}|{{ 'abc'.startswith(('x', 'a')) }}|{{ 'abc'.endswith('zz') }}"),
    ("str_split", "{{ 'a b  c '.split() }}|{{ 'a,b,,c'.split(',') }}|{{ 'a b c'.split(' ', 1) }}|{{ '  a b  '.split(none, 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}|{{ 'l1\\nl2\\r\\nl3'.splitlines() }}"),
    ("str_replace_find", "{{ 'aaa'.replace('a', 'b') }}|{{ 'aaa'.replace('a', 'b', 2) }}|{{ 'héllo'.find('l') }}|{{ 'abc'.find('z') }}|{{ 'abcabc'.rfind('b') }}|{{ 'banana'.count('an') }}"),
    ("str_join_and_tests", "{{ '-'.join(['a', 'b']) }}|{{ ', '.join(words) }}|{{ '123'.isdigit() }}|{{ 'ab'.isalpha() }}|{{ '  '.isspace() }}|{{ 'AB'.isupper() }}|{{ 'ab1'.islower() }}"),
    # filters
    ("filter_trim_length", "[{{ text | trim }}]|{{ text | length }}|{{ uni | length }}|{{ xs | count }}|{{ d | length }}|[{{ '--x--' | trim('-') }}]"),
    ("filter_case", "{{ 'hello world' | upper }}|{{ 'HeLLo' | lower }}|{{ 'hELLO wORLD' | capitalize }}|{{ 'hello-world foo(bar) [baz] o\\'neil' | title }}"),
    ("filter_default", "{{ missing | default('a') }}|{{ none | default('b') }}|{{ '' | default('c') }}|{{ '' | default('d', true) }}|{{ zero | d('e', boolean=true) }}"),
    ("filter_join", "{{ xs | join }}|{{ xs | join(', ') }}|{{ msgs | join('/', attribute='role') }}|{{ 'abc' | join('.') }}"),
    ("filter_list_items", "{{ 'abc' | list }}|{{ d | list }}|{{ d | items | list }}|{{ missing | items | list }}"),
    ("filter_first_last", "{{ xs | first }}|{{ xs | last }}|{{ 'abc' | first }}|{{ 'abc' | last }}|[{{ [] | first }}]"),
    ("filter_reverse", "{{ xs | reverse | list }}|{{ 'abc' | reverse }}"),
    ("filter_sort", "{{ words | sort }}|{{ words | sort(reverse=true) }}|{{ words | sort(case_sensitive=true) }}|{{ msgs | sort(attribute='content') | map(attribute='content') | list }}|{{ [3, 1, 2] | sort }}"),
    ("filter_unique_min_max_sum", "{{ words | unique | list }}|{{ words | unique(case_sensitive=true) | list }}|{{ xs | min }}|{{ xs | max }}|{{ words | max }}|{{ xs | sum }}|{{ nested.list | sum(attribute='n') }}"),
    ("filter_map_select", "{{ msgs | map(attribute='role') | list }}|{{ words | map('upper') | list }}|{{ xs | select('odd') | list }}|{{ xs | reject('even') | list }}|{{ xs | select('gt', 2) | list }}|{{ [0, 1, '', 'a'] | select | list }}"),
    ("filter_selectattr", "{{ msgs | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }}|{{ msgs | rejectattr('role', 'eq', 'user') | list | length }}|{{ nested.list | selectattr('n') | list | length }}"),
    ("filter_dictsort", "{{ d | dictsort }}|{{ {'b': 1, 'A': 2, 'a': 0} | dictsort }}|{{ {'x': 2, 'y': 1} | dictsort(by='value') }}"),
    ("filter_numbers", "{{ '42' | int }}|{{ 'x' | int }}|{{ 'x' | int(7) }}|{{ 3.9 | int }}|{{ '3.5' | float }}|{{ 'x' | float }}|{{ 2.5 | round }}|{{ 3.5 | round }}|{{ 2.675 | round(2) }}|{{ 2.1 | round(method='ceil') }}|{{ -3 | abs }}|{{ '0x1A' | int(base=16) }}"),
    ("filter_string_misc", "{{ 42 | string }}|{{ none | string }}|{{ 'a b c' | wordcount }}|{{ 'aXbX' | replace('X', '-') }}|{{ '<a href=\"x\">&\\'</a>' | e }}|{{ '<b>' | safe }}"),
    ("filter_indent", "{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent('> ', blank=true) }}"),
    ("filter_tojson_basic", "{{ d | tojson }}|{{ msgs[0] | tojson }}|{{ 'é\"\\\\\\n\\t\\u0001' | tojson }}|{{ [1.0, 2.5, 1e20, none, true] | tojson }}|{{ 'x' | tojson }}|{{ {} | tojson }}|{{ [] | tojson }}"),
    ("filter_tojson_options", "{{ nested | tojson(indent=2) }}\n{{ d | tojson(sort_keys=true) }}\n{{ d | tojson(separators=(',', ':')) }}\n{{ uni | tojson(ensure_ascii=true) }}\n{{ '😀' | tojson(ensure_ascii=true) }}\n{{ {'a': []} | tojson(indent=4) }}\n{{ {1: 'int key', true: 'bool'} | tojson }}"),
    ("filter_attr", "{{ msgs[0] | attr('role') }}|{{ missing | default(none) | attr('x') }}"),
    ("filter_chain_precedence", "{{ 'a' ~ ' b ' | trim ~ 'c' }}|{{ '  x' + '  y  ' | trim }}|{{ -1 | abs }}|{{ xs | length + 1 }}"),
    ("filter_block", "{% filter upper %}hello {{ 'world' }}{% endfilter %}|{% filter trim | upper %}  x  {% endfilter %}"),
    # tests
    ("tests_types", "{{ 'a' is string }}|{{ 1 is number }}|{{ true is number }}|{{ 1 is integer }}|{{ true is integer }}|{{ 1.0 is float }}|{{ true is boolean }}|{{ d is mapping }}|{{ xs is iterable }}|{{ 'a' is sequence }}|{{ range is callable }}|{{ none is none }}"),
    ("tests_values", "{{ 3 is odd }}|{{ 4 is even }}|{{ 9 is divisibleby 3 }}|{{ 9 is divisibleby(4) }}|{{ true is true }}|{{ 1 is true }}|{{ false is false }}|{{ none is sameas none }}|{{ 2 is in xs }}|{{ 2 is eq 2 }}|{{ 3 is gt 2 }}|{{ 'abc' is lower }}|{{ 'ABC' is upper }}"),
    ("tests_negated_precedence", "{{ missing is not defined }}|{{ not missing is defined }}|{{ d.c is not none }}|{{ xs is not string and 1 }}"),
    ("tests_filter_test", "{{ 'upper' is filter }}|{{ 'nope' is filter }}|{{ 'odd' is test }}"),
    # loops
    ("loop_vars", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}"),
    ("loop_prev_next_cycle", "{% for x in xs %}[{{ loop.previtem }}|{{ loop.nextitem }}|{{ loop.cycle('odd', 'even') }}]{% endfor %}"),
    ("loop_filter_else", "{% for x in xs if x is even %}{{ x }}:{{ loop.index }}/{{ loop.length }} {% else %}none{% endfor %}|{% for x in [] %}x{% else %}empty{% endfor %}"),
    ("loop_dict_and_unpack", "{% for k in d %}{{ k }}{% endfor %}|{% for k, v in d | items %}{{ k }}{{ v }}{% endfor %}|{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}|{% for (a, b) in [(5, 6)] %}{{ a * b }}{% endfor %}"),
    ("loop_nested", "{% for m in msgs %}{% for c in m.content %}{{ loop.index }}{{ c }}{% endfor %}{{ loop.index }};{% endfor %}"),
    ("loop_break_continue", "{% for x in xs %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
    ("loop_scope_does_not_leak", "{% set y = 'outer' %}{% for x in xs %}{% set y = x %}{% endfor %}{{ y }}|{% for x in [1, 2] %}{% if x == 2 %}[{{ z }}]{% endif %}{% set z = x %}{% endfor %}"),
    ("loop_namespace", "{% set ns = namespace(count=0, last=none) %}{% for m in msgs %}{% if m.role == 'user' %}{% set ns.count = ns.count + 1 %}{% set ns.last = m.content %}{% endif %}{% endfor %}{{ ns.count }} {{ ns.last }}|{{ namespace(a=1) }}"),
    ("loop_range", "{% for i in range(3) %}{{ i }}{% endfor %}|{% for i in range(1, 10, 3) %}{{ i }}{% endfor %}|{% for i in range(5, 0, -2) %}{{ i }}{% endfor %}|{{ range(0) | list }}"),
    ("loop_reverse_messages", "{% for m in msgs[::-1] %}{{ m.role[0] }}{% endfor %}|{% for m in msgs | reverse %}{{ loop.index0 }}{% endfor %}"),
    # set
    ("set_forms", "{% set a, b = 1, 2 %}{{ a }}{{ b }}|{% set t = 1, %}{{ t | length }}|{% set block %}x{{ a }}y{% endset %}{{ block }}|{% set n = none %}{{ n is none }}"),
    ("set_in_if_at_top", "{% if flag %}{% set v = 'set' %}{% endif %}{{ v }}|{% if not flag %}{% set w = 'no' %}{% endif %}[{{ w }}]"),
    ("set_shadows_context", "{% set flag = 'shadow' %}{{ flag }}"),
    ("dict_and_namespace_globals", "{{ dict(a=1, b='x') }}|{{ dict(a=1).a }}|{% set ns = namespace(d) %}{{ ns.a }}{{ ns.b }}"),
    # macros
    ("macro_basic", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Bob') }} {{ greet('Al', '?') }} {{ greet(name='Kw', punct='.') }}"),
    ("macro_recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1) | int }}{% endif %}{% endmacro %}{{ fact(5) }}"),
    ("macro_sees_globals", "{% macro render(m) %}<{{ m.role }}:{{ m.content | trim }}>{% endmacro %}{% for m in msgs %}{{ render(m) }}{% endfor %}"),
    # transformers specifics
    ("generation_block", "{% for m in msgs %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% else %}{{ m.content }}{% endif %}{% endfor %}"),
    ("strftime_now", "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%A %H:%M:%S %j %%') }}|{{ strftime_now('%Y-%m-%d') }}"),
    ("tuples", "{{ (1, 2) }}|{{ (1,) }}|{{ () }}|{{ d.items() | list }}|{{ d | dictsort | first }}|{{ (1, 2) == [1, 2] }}|{{ (1, 2) + (3,) }}|{{ ('a', 'b')[::-1] }}|{{ ['x', ('y', 1)] }}"),
    ("unknown_filter_untaken_branch", "{% if false %}{{ x | frob }}{% elif false and x is frobbed %}{% endif %}ok{{ 'a' if true else (x | frob) }}"),
    # runtime errors
    ("error_unknown_filter_taken_branch", "{% if true %}{{ x | frob }}{% endif %}"),
    ("error_raise_exception", "before{{ raise_exception('Custom failure: ' ~ 42) }}"),
    ("error_undefined_attribute", "{{ missing.attr }}"),
    ("error_undefined_arith", "{{ missing + 1 }}"),
    ("error_str_plus_int", "{{ 'a' + 1 }}"),
    ("error_int_plus_str", "{{ 1 + 'a' }}"),
    ("error_zero_division", "{{ 1 / 0 }}"),
    ("error_none_plus", "{{ none + 1 }}"),
    ("error_tojson_undefined", "{{ missing | tojson }}"),
    ("error_list_append", "{{ xs.append(6) }}"),
    ("error_namespace_underscore", "{% set ns = namespace() %}{% set ns._x = 1 %}"),
    ("error_set_attribute_on_dict", "{% set d2 = {} %}{% set d2.x = 1 %}"),
    ("error_call_undefined", "{{ nothing() }}"),
    ("error_call_string", "{{ 'a'() }}"),
    ("error_iterate_int", "{% for x in 5 %}{% endfor %}"),
    ("error_unpack", "{% for a, b in [[1, 2, 3]] %}{% endfor %}"),
    ("error_strip_on_list", "{{ xs.strip() }}"),
    ("error_in_int", "{{ 1 in 5 }}"),
    ("error_compare_types", "{{ 1 < 'a' }}"),
    ("error_range_too_big", "{{ range(200000) | length }}"),
]


def render_feature_cases():
    cases = []
    for name, template in FEATURE_CASES:
        case = {"name": name, "template": template}
        try:
            compiled = _compile_jinja_template(template)
        except jinja2.exceptions.TemplateSyntaxError as exc:
            raise SystemExit(f"feature case {name} does not compile in Jinja: {exc}")
        compiled.globals["strftime_now"] = lambda fmt: FIXED_NOW.strftime(fmt)
        try:
            case["expected"] = compiled.render(**CTX)
        except jinja2.exceptions.TemplateError as exc:
            plain = type(exc) is jinja2.exceptions.TemplateError
            case["error"] = error_record(exc, "raise_exception" if plain else "template")
        except Exception as exc:
            case["error"] = error_record(exc, "template")
        cases.append(case)
    return cases


# ---------------------------------------------------------------- malformed templates

# (name, template, kind, line, column of the error in llmbatch's message[, "opener"]).
# kind "syntax": Jinja refuses to compile it too, and reports the same line,
# except where llmbatch points at the tag left open ("opener") and Jinja at the
# end of the template. kind "unsupported": valid Jinja that llmbatch refuses.
MALFORMED = [
    ("unclosed_variable", "hello {{ name", "syntax", 1, 7),
    ("unclosed_block", "a\n{% if x", "syntax", 2, 1),
    ("unclosed_comment", "x {# never closed", "syntax", 1, 3),
    ("unclosed_string", "{{ 'abc }}", "syntax", 1, 4),
    ("unclosed_paren", "{{ (1 + 2 }}", "syntax", 1, 11),
    ("unbalanced_bracket", "{{ [1, 2) }}", "syntax", 1, 9),
    ("missing_endif", "{% if x %}\nyes\n", "syntax", 1, 4, "opener"),
    ("missing_endfor", "line1\n  {% for m in messages %}{{ m }}", "syntax", 2, 6, "opener"),
    ("stray_endfor", "{% endfor %}", "syntax", 1, 4),
    ("else_without_if", "a{% else %}b", "syntax", 1, 5),
    ("unknown_filter", "{{ x | frobnicate }}", "syntax", 1, 8),
    ("unknown_test", "{{ x is frobnicated }}", "syntax", 1, 9),
    ("unknown_tag", "{% frobnicate %}", "syntax", 1, 4),
    ("do_tag_not_enabled", "{% do x.append(1) %}", "syntax", 1, 4),
    ("bad_expression", "{{ 1 + }}", "syntax", 1, 8),
    ("empty_expression", "{{ }}", "syntax", 1, 4),
    ("bad_character", "{{ a ! b }}", "syntax", 1, 6),
    ("for_without_in", "{% for x of xs %}{% endfor %}", "syntax", 1, 10),
    ("set_without_value", "{% set x = %}", "syntax", 1, 12),
    ("break_outside_loop", "{% break %}", "syntax", 1, 4),
    ("truncated_escape", "{{ '\\x4' }}", "syntax", 1, 5),
    ("unclosed_raw", "{% raw %}abc", "syntax", 1, 1),
    ("unclosed_block_multiline", "{% for m in messages %}\n{{ m }}\n{% if x %}\n{% endfor %}", "syntax", 4, 4),
    ("error_after_crlf_lines", "a\r\nb\r\n\r\n  {{ x | nofilter }}", "syntax", 4, 10),
    ("error_on_line_3", "ok\nstill ok\n{{ a | nofilter }}", "syntax", 3, 8),
    ("include", "{% include 'other.jinja' %}", "unsupported", 1, 4),
    ("extends", "{% extends 'base.jinja' %}", "unsupported", 1, 4),
    ("call_block", "{% call foo() %}x{% endcall %}", "unsupported", 1, 4),
    ("recursive_loop", "{% for x in xs recursive %}{{ x }}{% endfor %}", "unsupported", 1, 16),
    ("unsupported_filter", "{{ x | truncate(5) }}", "unsupported", 1, 8),
    ("star_args", "{{ f(*xs) }}", "unsupported", 1, 6),
]


def check_malformed():
    cases = []
    for name, template, kind, line, column, *opener in MALFORMED:
        case = {"name": name, "template": template, "kind": kind, "line": line, "column": column}
        try:
            _compile_jinja_template(template)
            case["jinja_compiles"] = True
        except jinja2.exceptions.TemplateSyntaxError as exc:
            case["jinja_compiles"] = False
            case["jinja_line"] = exc.lineno
            case["jinja_message"] = exc.message
        except SyntaxError as exc:  # e.g. {% break %} outside a loop: Jinja emits invalid Python
            case["jinja_compiles"] = False
            case["jinja_line"] = None
            case["jinja_message"] = f"Python {type(exc).__name__}: {exc.msg}"
        if kind == "syntax" and case["jinja_compiles"]:
            raise SystemExit(f"malformed case {name} compiles in Jinja; it is not a syntax error")
        if kind == "syntax" and not opener and case["jinja_line"] not in (None, line):
            raise SystemExit(f"malformed case {name}: Jinja reports line {case['jinja_line']}, we expect {line}")
        cases.append(case)
    return cases


def write(name, payload):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {path}")


def main():
    # Mistral's template expects <s>/</s>: a config with just the special tokens.
    special_dir = os.path.join(OUT, "models", "mistral_special_tokens")
    os.makedirs(special_dir, exist_ok=True)
    with open(os.path.join(SHARED_TOKENIZERS, "mistral", "tokenizer_config.json"), encoding="utf-8") as f:
        mistral_config = json.load(f)
    with open(os.path.join(special_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump({k: mistral_config[k] for k in ("bos_token", "eos_token", "unk_token", "pad_token")}, f, indent=1)
        f.write("\n")
    with open(os.path.join(SHARED_TOKENIZERS, "mistral", "tokenizer.json"), "rb") as src:
        # transformers needs the tokenizer itself to load the config; it is not committed.
        tmp = os.path.join(special_dir, "tokenizer.json")
        with open(tmp, "wb") as dst:
            dst.write(src.read())
    for model in ("llama3_1", "qwen2_5"):
        tok_json = os.path.join(OUT, "models", model, "tokenizer.json")
        with open(os.path.join(SHARED_TOKENIZERS, model, "tokenizer.json"), "rb") as src, open(tok_json, "wb") as dst:
            dst.write(src.read())
    try:
        templates = load_templates()
        rendered = render_conversations(templates)
        template_info = {name: {"path": where, "special_tokens": tok.special_tokens_map}
                         for name, (tok, _, where) in templates.items()}
    finally:
        for model in ("llama3_1", "qwen2_5", "mistral_special_tokens"):
            os.remove(os.path.join(OUT, "models", model, "tokenizer.json"))
    versions = {"transformers": transformers.__version__, "jinja2": jinja2.__version__}
    write("expected_renderings.json", {"generator": versions, "templates": template_info, "cases": rendered})
    write("jinja_cases.json", {"generator": versions, "context": CTX,
                               "now": FIXED_NOW.strftime("%Y-%m-%d %H:%M:%S"), "cases": render_feature_cases()})
    write("malformed_templates.json", {"generator": versions, "cases": check_malformed()})


if __name__ == "__main__":
    main()
