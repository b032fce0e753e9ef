// Errors raised while a template is evaluated. They carry no position: the
// interpreter catches them at the node being evaluated and rethrows them as
// llmbatch errors that name the template's line and column.
#pragma once

#include <stdexcept>

namespace llmbatch::jinja {

// What Python/Jinja would raise as TypeError, ValueError, UndefinedError...:
// the template and its input do not fit together (becomes an InputError).
class TemplateRuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Valid Jinja that this interpreter does not implement (becomes an
// UnsupportedError): refusing beats rendering a prompt that differs.
class TemplateUnsupportedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace llmbatch::jinja
