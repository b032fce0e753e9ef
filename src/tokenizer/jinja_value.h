// The values a Jinja template computes with, modelled on the Python objects
// they are in Jinja2: undefined, None, bool, int, float, str, list, dict,
// namespace and callables.
//
// Lists and dicts are immutable once built (transformers renders in an
// ImmutableSandboxedEnvironment) and shared by pointer, so copying a Value is
// cheap. A namespace is the one mutable value: `{% set ns.x = 1 %}` changes
// it for every holder, as in Python. A tuple is a list with a flag: it
// prints as (a, b) and never equals a list.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace llmbatch::jinja {

class Value;
using ValueList = std::vector<Value>;

// A Python dict: insertion-ordered, keys compared with Python's ==. Lookup
// is linear, which is faster than hashing at the sizes of chat messages.
class ValueDict {
 public:
  ValueDict() = default;
  // From entries whose keys are known to be distinct (JSON objects, loop info).
  // Out of line, like size(): Value is incomplete here, and clang
  // instantiates std::pair<Value, Value> for inline bodies.
  explicit ValueDict(std::vector<std::pair<Value, Value>> entries);

  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  const Value* find(const std::string& key) const { return find(std::string_view(key)); }
  const Value* find(const char* key) const { return find(std::string_view(key)); }
  // Replaces the value of an existing key in place, else appends.
  void set(Value key, Value value);
  const std::vector<std::pair<Value, Value>>& entries() const { return entries_; }
  size_t size() const;

 private:
  std::vector<std::pair<Value, Value>> entries_;
};

// The arguments of a call: positional, then keyword (`f(1, x=2)`).
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};
using NativeFunction = std::function<Value(const CallArgs&)>;

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kNamespace, kFunction };

  Value() : data_(Undefined{}) {}
  Value(std::nullptr_t) : data_(nullptr) {}
  Value(bool b) : data_(b) {}
  Value(int i) : data_(static_cast<int64_t>(i)) {}
  Value(int64_t i) : data_(i) {}
  Value(double d) : data_(d) {}
  Value(std::string s) : data_(std::move(s)) {}
  Value(const char* s) : data_(std::string(s)) {}

  // `hint` says what was looked up, for the error when it is used
  // ("'dict object' has no attribute 'tool_calls'").
  static Value undefined(std::string hint);
  static Value list(ValueList items);
  static Value tuple(ValueList items);
  // A list or tuple like `like` (same flag) holding `items`.
  static Value sequence_like(const Value& like, ValueList items);
  static Value dict(ValueDict entries);
  static Value make_namespace(ValueDict attributes);
  static Value function(std::string name, NativeFunction fn);

  Kind kind() const { return static_cast<Kind>(data_.index()); }
  bool is_undefined() const { return kind() == Kind::kUndefined; }
  bool is_none() const { return kind() == Kind::kNone; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_float() const { return kind() == Kind::kFloat; }
  // Python numbers: bool is an int subclass.
  bool is_number() const { return is_bool() || is_int() || is_float(); }
  // bool or int, usable as an integer.
  bool is_integral() const { return is_bool() || is_int(); }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_list() const { return kind() == Kind::kList; }  // lists and tuples
  bool is_tuple() const { return is_list() && std::get<ListPtr>(data_)->tuple; }
  bool is_dict() const { return kind() == Kind::kDict; }
  bool is_namespace() const { return kind() == Kind::kNamespace; }
  bool is_function() const { return kind() == Kind::kFunction; }

  bool as_bool() const { return std::get<bool>(data_); }
  int64_t as_int() const;   // bool or int
  double as_float() const;  // any number
  const std::string& as_string() const { return std::get<std::string>(data_); }
  const ValueList& as_list() const { return std::get<ListPtr>(data_)->items; }
  const ValueDict& as_dict() const { return *std::get<DictPtr>(data_); }
  // A namespace's attributes; mutable through every copy of the value.
  ValueDict& namespace_attributes() const { return std::get<NamespacePtr>(data_)->attributes; }
  const std::string& function_name() const { return std::get<FunctionPtr>(data_)->name; }
  Value call(const CallArgs& args) const { return std::get<FunctionPtr>(data_)->fn(args); }
  const std::string& undefined_hint() const { return std::get<Undefined>(data_).hint; }

  // Python's bool(), str() and repr().
  bool truthy() const;
  std::string str() const;
  std::string repr() const;
  // How Jinja names the type in error messages: 'dict object', 'str object', None.
  std::string object_description() const;
  // Python's type name: 'str', 'int', 'NoneType', 'list', 'dict'...
  std::string type_name() const;

  friend bool operator==(const Value& a, const Value& b);

 private:
  struct Undefined {
    std::string hint;
  };
  struct Namespace {
    ValueDict attributes;
  };
  struct Function {
    std::string name;
    NativeFunction fn;
  };
  struct ListData {
    ValueList items;
    bool tuple = false;
  };
  using ListPtr = std::shared_ptr<const ListData>;
  using DictPtr = std::shared_ptr<const ValueDict>;
  using NamespacePtr = std::shared_ptr<Namespace>;
  using FunctionPtr = std::shared_ptr<const Function>;

  // The order of the alternatives is the order of Kind.
  std::variant<Undefined, std::nullptr_t, bool, int64_t, double, std::string, ListPtr, DictPtr,
               NamespacePtr, FunctionPtr>
      data_;
};

// One parameter of a built-in function, filter or method: required, or
// optional with the value Python would default it to.
struct Param {
  Param(const char* name) : name(name), required(true) {}  // NOLINT: required by default
  Param(const char* name, Value fallback) : name(name), fallback(std::move(fallback)) {}
  const char* name;
  Value fallback;
  bool required = false;
};

// Binds `args` to `params` as Python would (positional first, then by
// name); an optional parameter not given gets its fallback. Throws
// TemplateRuntimeError naming `function` for missing, unknown or extra ones.
std::vector<Value> bind_args(std::string_view function, const CallArgs& args, std::initializer_list<Param> params);

// Raises Jinja's UndefinedError for using `undefined` (adding to it, calling
// it, reading an attribute of it...).
[[noreturn]] void throw_undefined(const Value& undefined);

// Python's a < b for numbers, strings and lists; other pairs throw
// TemplateRuntimeError as Python's TypeError would.
bool less_than(const Value& a, const Value& b);

// Python's repr() of a float: shortest round-trip digits, '1e+16', '0.0001', 'inf'.
std::string py_float_repr(double value);

}  // namespace llmbatch::jinja
