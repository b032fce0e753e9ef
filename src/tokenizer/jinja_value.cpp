#include "tokenizer/jinja_value.h"

#include <charconv>
#include <cmath>

#include "tokenizer/jinja_error.h"
#include "tokenizer/jinja_text.h"

namespace llmbatch::jinja {

ValueDict::ValueDict(std::vector<std::pair<Value, Value>> entries) : entries_(std::move(entries)) {}

size_t ValueDict::size() const { return entries_.size(); }


const Value* ValueDict::find(const Value& key) const {
  for (const auto& [k, v] : entries_) {
    if (k == key) return &v;
  }
  return nullptr;
}

const Value* ValueDict::find(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k.is_string() && k.as_string() == key) return &v;
  }
  return nullptr;
}

void ValueDict::set(Value key, Value value) {
  for (auto& [k, v] : entries_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  entries_.emplace_back(std::move(key), std::move(value));
}

Value Value::undefined(std::string hint) {
  Value v;
  v.data_ = Undefined{std::move(hint)};
  return v;
}

Value Value::list(ValueList items) {
  Value v;
  v.data_ = std::make_shared<const ListData>(ListData{std::move(items), false});
  return v;
}

Value Value::tuple(ValueList items) {
  Value v;
  v.data_ = std::make_shared<const ListData>(ListData{std::move(items), true});
  return v;
}

Value Value::sequence_like(const Value& like, ValueList items) {
  return like.is_tuple() ? tuple(std::move(items)) : list(std::move(items));
}

Value Value::dict(ValueDict entries) {
  Value v;
  v.data_ = std::make_shared<const ValueDict>(std::move(entries));
  return v;
}

Value Value::make_namespace(ValueDict attributes) {
  Value v;
  v.data_ = std::make_shared<Namespace>(Namespace{std::move(attributes)});
  return v;
}

Value Value::function(std::string name, NativeFunction fn) {
  Value v;
  v.data_ = std::make_shared<const Function>(Function{std::move(name), std::move(fn)});
  return v;
}

int64_t Value::as_int() const { return is_bool() ? (as_bool() ? 1 : 0) : std::get<int64_t>(data_); }

double Value::as_float() const {
  return is_float() ? std::get<double>(data_) : static_cast<double>(as_int());
}

bool Value::truthy() const {
  switch (kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return as_bool();
    case Kind::kInt:
      return as_int() != 0;
    case Kind::kFloat:
      return as_float() != 0.0;
    case Kind::kString:
      return !as_string().empty();
    case Kind::kList:
      return !as_list().empty();
    case Kind::kDict:
      return as_dict().size() != 0;
    case Kind::kNamespace:
    case Kind::kFunction:
      return true;
  }
  return false;
}

namespace {

std::string dict_repr(const ValueDict& dict) {
  std::string out = "{";
  for (const auto& [k, v] : dict.entries()) {
    if (out.size() > 1) out += ", ";
    out += k.repr() + ": " + v.repr();
  }
  return out + "}";
}

}  // namespace

std::string Value::str() const {
  switch (kind()) {
    case Kind::kUndefined:
      return "";
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return as_bool() ? "True" : "False";
    case Kind::kInt:
      return std::to_string(as_int());
    case Kind::kFloat:
      return py_float_repr(as_float());
    case Kind::kString:
      return as_string();
    case Kind::kList: {
      std::string out = is_tuple() ? "(" : "[";
      for (const Value& item : as_list()) {
        if (out.size() > 1) out += ", ";
        out += item.repr();
      }
      if (is_tuple()) return out + (as_list().size() == 1 ? ",)" : ")");
      return out + "]";
    }
    case Kind::kDict:
      return dict_repr(as_dict());
    case Kind::kNamespace:
      return "<Namespace " + dict_repr(namespace_attributes()) + ">";
    case Kind::kFunction:
      return "<function " + function_name() + ">";
  }
  return "";
}

std::string Value::repr() const {
  if (is_string()) return py_repr_string(as_string());
  if (is_undefined()) return "Undefined";
  return str();
}

std::string Value::type_name() const {
  switch (kind()) {
    case Kind::kUndefined:
      return "Undefined";
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kList:
      return is_tuple() ? "tuple" : "list";
    case Kind::kDict:
      return "dict";
    case Kind::kNamespace:
      return "Namespace";
    case Kind::kFunction:
      return "function";
  }
  return "object";
}

std::string Value::object_description() const {
  return is_none() ? "None" : "'" + type_name() + " object'";
}

bool operator==(const Value& a, const Value& b) {
  using Kind = Value::Kind;
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) return a.as_int() == b.as_int();
    return a.as_float() == b.as_float();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return true;
    case Kind::kString:
      return a.as_string() == b.as_string();
    case Kind::kList:
      return a.is_tuple() == b.is_tuple() && a.as_list() == b.as_list();
    case Kind::kDict: {
      const ValueDict& x = a.as_dict();
      const ValueDict& y = b.as_dict();
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x.entries()) {
        const Value* other = y.find(k);
        if (other == nullptr || !(*other == v)) return false;
      }
      return true;
    }
    case Kind::kNamespace:
      return &a.namespace_attributes() == &b.namespace_attributes();
    case Kind::kFunction:
      return std::get<Value::FunctionPtr>(a.data_) == std::get<Value::FunctionPtr>(b.data_);
    case Kind::kBool:
    case Kind::kInt:
    case Kind::kFloat:
      break;  // handled above
  }
  return false;
}

std::vector<Value> bind_args(std::string_view function, const CallArgs& args,
                             std::initializer_list<Param> params) {
  const std::string name(function);
  if (args.positional.size() > params.size()) {
    throw TemplateRuntimeError("TypeError: " + name + "() takes at most " + std::to_string(params.size()) +
                               " argument(s), got " + std::to_string(args.positional.size()));
  }
  std::vector<Value> bound;
  std::vector<bool> given(params.size(), false);
  for (const Param& p : params) bound.push_back(p.fallback);
  for (size_t i = 0; i < args.positional.size(); ++i) {
    bound[i] = args.positional[i];
    given[i] = true;
  }
  for (const auto& [key, value] : args.keyword) {
    size_t i = 0;
    for (const Param& p : params) {
      if (key == p.name) break;
      ++i;
    }
    if (i == params.size()) {
      throw TemplateRuntimeError("TypeError: " + name + "() got an unexpected keyword argument '" + key + "'");
    }
    if (given[i]) throw TemplateRuntimeError("TypeError: " + name + "() got multiple values for argument '" + key + "'");
    bound[i] = value;
    given[i] = true;
  }
  size_t i = 0;
  for (const Param& p : params) {
    if (p.required && !given[i]) {
      throw TemplateRuntimeError("TypeError: " + name + "() missing required argument '" + p.name + "'");
    }
    ++i;
  }
  return bound;
}

void throw_undefined(const Value& undefined) {
  const std::string& hint = undefined.undefined_hint();
  throw TemplateRuntimeError("UndefinedError: " + (hint.empty() ? std::string("value is undefined") : hint));
}

bool less_than(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) return a.as_int() < b.as_int();
    return a.as_float() < b.as_float();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();  // UTF-8 order = code point order
  if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
    const ValueList& x = a.as_list();
    const ValueList& y = b.as_list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!(x[i] == y[i])) return less_than(x[i], y[i]);
    }
    return x.size() < y.size();
  }
  if (a.is_undefined()) throw_undefined(a);
  if (b.is_undefined()) throw_undefined(b);
  throw TemplateRuntimeError("TypeError: '<' not supported between instances of '" + a.type_name() +
                             "' and '" + b.type_name() + "'");
}

std::string py_float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  // Shortest round-trip digits in scientific form, e.g. "-1.2345e+02".
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(result.ptr - buf));
  std::string sign;
  if (sci.front() == '-') {
    sign = "-";
    sci.remove_prefix(1);
  }
  const size_t e = sci.find('e');
  std::string digits;
  for (const char c : sci.substr(0, e)) {
    if (c != '.') digits += c;
  }
  const int exponent = std::stoi(std::string(sci.substr(e + 1)));
  const int decpt = exponent + 1;  // where the decimal point goes within `digits`
  const int ndigits = static_cast<int>(digits.size());
  // Python switches to exponent notation outside 1e-4 <= |x| < 1e16.
  if (decpt <= -4 || decpt > 16) {
    std::string out = sign + digits.substr(0, 1);
    if (ndigits > 1) out += "." + digits.substr(1);
    out += exponent < 0 ? "e-" : "e+";
    const int magnitude = std::abs(exponent);
    if (magnitude < 10) out += '0';
    return out + std::to_string(magnitude);
  }
  if (decpt <= 0) return sign + "0." + std::string(static_cast<size_t>(-decpt), '0') + digits;
  if (decpt >= ndigits) return sign + digits + std::string(static_cast<size_t>(decpt - ndigits), '0') + ".0";
  return sign + digits.substr(0, static_cast<size_t>(decpt)) + "." + digits.substr(static_cast<size_t>(decpt));
}

}  // namespace llmbatch::jinja
