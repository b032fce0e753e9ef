// Walks a parsed template and writes its output.
//
// Scoping follows Jinja2: each iteration of a for loop (and each macro
// call) gets a fresh scope whose reads fall through to the enclosing one, so
// a `{% set %}` inside a loop is gone after the iteration — the reason chat
// templates use namespace(). `if` opens no scope. Names not set by the
// template come from `globals` (the render context and built-ins).
//
// Errors carry the template's line and column: InputError for what Python
// would raise at render time (UndefinedError, TypeError...), UnsupportedError
// for valid Jinja this interpreter refuses; raise_exception's InputError
// passes through with the template's message unchanged.
#pragma once

#include <string>
#include <unordered_map>

#include "tokenizer/jinja_ast.h"
#include "tokenizer/jinja_lexer.h"

namespace llmbatch::jinja {

using Globals = std::unordered_map<std::string, Value>;

std::string render_program(const Program& program, const SourceText& source, const Globals& globals);

}  // namespace llmbatch::jinja
