// Attribute, item and slice access as Jinja's ImmutableSandboxedEnvironment
// does it, including the Python methods chat templates call on strings,
// dicts and lists (`content.strip()`, `message.get('x')`, `d.items()`).
//
//   obj.name    a method of obj's Python type first, then obj['name']
//   obj[key]    the item first, then (for a string key) the attribute
//   missing     undefined, except on undefined itself, which raises
//   mutation    list.append, dict.update... raise, as the sandbox does
#pragma once

#include <optional>
#include <string>

#include "tokenizer/jinja_value.h"

namespace llmbatch::jinja {

Value get_attribute(const Value& object, const std::string& name);
Value get_item(const Value& object, const Value& key);
// object[start:stop:step]; an omitted part is none/undefined.
Value get_slice(const Value& object, const Value& start, const Value& stop, const Value& step);

// The elements a for loop or `list` visits: list items, dict keys, the
// characters of a string, nothing for undefined. Throws for the rest.
ValueList iterate(const Value& value);

}  // namespace llmbatch::jinja
