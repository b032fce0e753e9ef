#include "tokenizer/jinja_operators.h"

#include <cmath>
#include <string>

#include "tokenizer/jinja_error.h"

namespace llmbatch::jinja {
namespace {

[[noreturn]] void unsupported_operands(std::string_view op, const Value& a, const Value& b) {
  if (a.is_undefined()) throw_undefined(a);
  if (b.is_undefined()) throw_undefined(b);
  throw TemplateRuntimeError("TypeError: unsupported operand type(s) for " + std::string(op) + ": '" +
                             a.type_name() + "' and '" + b.type_name() + "'");
}

// x op y on int64, refusing what would overflow (Python would grow a big int).
template <typename Op>
int64_t checked(Op op, int64_t x, int64_t y) {
  int64_t result = 0;
  if (op(x, y, &result)) throw TemplateRuntimeError("OverflowError: integer result does not fit in 64 bits");
  return result;
}
constexpr auto kAdd = [](int64_t x, int64_t y, int64_t* r) { return __builtin_add_overflow(x, y, r); };
constexpr auto kSub = [](int64_t x, int64_t y, int64_t* r) { return __builtin_sub_overflow(x, y, r); };
constexpr auto kMul = [](int64_t x, int64_t y, int64_t* r) { return __builtin_mul_overflow(x, y, r); };

int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t floor_mod(int64_t a, int64_t b) {
  const int64_t r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

Value integer_power(int64_t base, int64_t exponent) {
  if (exponent < 0) return Value(std::pow(static_cast<double>(base), static_cast<double>(exponent)));
  int64_t result = 1;
  for (int64_t i = 0; i < exponent; ++i) {
    result = checked(kMul, result, base);
    if (result == 0 || result == 1) break;  // stays put from here on
  }
  return Value(result);
}

// Refuses results beyond this many bytes or elements instead of exhausting memory.
constexpr int64_t kMaxRepeat = int64_t{1} << 26;

Value repeat(const Value& sequence, int64_t times) {
  const auto unit = static_cast<int64_t>(sequence.is_string() ? sequence.as_string().size() : sequence.as_list().size());
  if (times > 0 && unit > 0 && times > kMaxRepeat / unit) {
    throw TemplateRuntimeError("MemoryError: repetition result too large");
  }
  if (sequence.is_string()) {
    std::string out;
    for (int64_t i = 0; i < times; ++i) out += sequence.as_string();
    return Value(std::move(out));
  }
  ValueList items;
  for (int64_t i = 0; i < times; ++i) items.insert(items.end(), sequence.as_list().begin(), sequence.as_list().end());
  return Value::sequence_like(sequence, std::move(items));
}

Value numeric_op(std::string_view op, const Value& a, const Value& b) {
  const bool ints = a.is_integral() && b.is_integral();
  if (op == "/") {
    if (b.as_float() == 0.0) throw TemplateRuntimeError("ZeroDivisionError: division by zero");
    return Value(a.as_float() / b.as_float());
  }
  if (ints) {
    const int64_t x = a.as_int();
    const int64_t y = b.as_int();
    if (op == "+") return Value(checked(kAdd, x, y));
    if (op == "-") return Value(checked(kSub, x, y));
    if (op == "*") return Value(checked(kMul, x, y));
    if (op == "**") return integer_power(x, y);
    if (y == 0) throw TemplateRuntimeError("ZeroDivisionError: integer division or modulo by zero");
    if (op == "//") return Value(floor_div(x, y));
    return Value(floor_mod(x, y));
  }
  const double x = a.as_float();
  const double y = b.as_float();
  if (op == "+") return Value(x + y);
  if (op == "-") return Value(x - y);
  if (op == "*") return Value(x * y);
  if (op == "**") return Value(std::pow(x, y));
  if (y == 0.0) throw TemplateRuntimeError("ZeroDivisionError: float division by zero");
  if (op == "//") return Value(std::floor(x / y));
  const double r = std::fmod(x, y);
  return Value(r != 0.0 && ((r < 0) != (y < 0)) ? r + y : r);
}

}  // namespace

Value binary_op(std::string_view op, const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return numeric_op(op, a, b);
  if (op == "+") {
    if (a.is_string() && b.is_string()) return Value(a.as_string() + b.as_string());
    if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
      ValueList items = a.as_list();
      items.insert(items.end(), b.as_list().begin(), b.as_list().end());
      return Value::sequence_like(a, std::move(items));
    }
    if (a.is_string() && !b.is_undefined()) {
      throw TemplateRuntimeError("TypeError: can only concatenate str (not \"" + b.type_name() + "\") to str");
    }
  }
  if (op == "*") {
    if ((a.is_string() || a.is_list()) && b.is_integral()) return repeat(a, b.as_int());
    if (a.is_integral() && (b.is_string() || b.is_list())) return repeat(b, a.as_int());
  }
  if (op == "%" && a.is_string()) throw TemplateUnsupportedError("printf-style '%' string formatting");
  unsupported_operands(op, a, b);
}

Value unary_op(std::string_view op, const Value& v) {
  if (v.is_undefined()) throw_undefined(v);
  if (!v.is_number()) {
    throw TemplateRuntimeError("TypeError: bad operand type for unary " + std::string(op) + ": '" + v.type_name() + "'");
  }
  if (v.is_float()) return Value(op == "-" ? -v.as_float() : v.as_float());
  return Value(op == "-" ? checked(kSub, 0, v.as_int()) : v.as_int());
}

bool contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::kString:
      if (!item.is_string()) {
        throw TemplateRuntimeError("TypeError: 'in <string>' requires string as left operand, not " + item.type_name());
      }
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Kind::kList:
      for (const Value& v : container.as_list()) {
        if (v == item) return true;
      }
      return false;
    case Value::Kind::kDict:
      return container.as_dict().find(item) != nullptr;
    case Value::Kind::kUndefined:
      return false;  // Undefined iterates as empty
    default:
      throw TemplateRuntimeError("TypeError: argument of type '" + container.type_name() + "' is not iterable");
  }
}

bool compare(std::string_view op, const Value& a, const Value& b) {
  if (op == "==") return a == b;
  if (op == "!=") return !(a == b);
  if (op == "in") return contains(b, a);
  if (op == "not in") return !contains(b, a);
  if (op == "<") return less_than(a, b);
  if (op == ">") return less_than(b, a);
  if (op == "<=") return less_than(a, b) || a == b;
  return less_than(b, a) || a == b;  // ">="
}

}  // namespace llmbatch::jinja
