// Python's operators on Jinja values: arithmetic (+ - * / // % **),
// comparison (== != < <= > >=) and membership (in, not in), with Python's
// rules: bool is an int, int / int is a float, // and % floor, str * int
// repeats, and undefined operands raise UndefinedError.
//
// Integers are 64-bit; where Python would grow a big integer we raise an
// error instead of wrapping.
#pragma once

#include <string_view>

#include "tokenizer/jinja_value.h"

namespace llmbatch::jinja {

// op is one of "+", "-", "*", "/", "//", "%", "**".
Value binary_op(std::string_view op, const Value& a, const Value& b);
// op is one of "-", "+" (numbers only).
Value unary_op(std::string_view op, const Value& v);
// op is one of "==", "!=", "<", "<=", ">", ">=", "in", "not in".
bool compare(std::string_view op, const Value& a, const Value& b);
// Python's `item in container`.
bool contains(const Value& container, const Value& item);

}  // namespace llmbatch::jinja
