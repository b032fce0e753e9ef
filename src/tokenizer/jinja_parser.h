// Tokens -> syntax tree, following Jinja2's grammar and operator precedence
// (jinja2/parser.py), so that `a + b | trim` filters only `b` and
// `not x is defined` negates the test, exactly as in Jinja.
//
// Statements: if/elif/else, for (with `if` filter, `else`, tuple targets),
// set (plain, tuple, namespace attribute, block), macro, filter blocks,
// break/continue (transformers enables jinja2.ext.loopcontrols) and
// transformers' {% generation %}. Unknown filters and tests are errors here,
// as when Jinja compiles a template (but, as in Jinja 3.1, only at run time
// inside an if statement or a conditional expression).
#pragma once

#include "tokenizer/jinja_ast.h"
#include "tokenizer/jinja_lexer.h"

namespace llmbatch::jinja {

// Throws ConfigError for invalid Jinja and UnsupportedError for Jinja that
// this interpreter does not implement (include, extends, call blocks...),
// both naming line and column.
Program parse_template(const SourceText& source);

}  // namespace llmbatch::jinja
