#include "tokenizer/jinja_methods.h"

#include <utf8proc.h>

#include <algorithm>
#include <initializer_list>
#include <string_view>

#include "tokenizer/jinja_error.h"
#include "tokenizer/jinja_text.h"

namespace llmbatch::jinja {
namespace {

using Method = Value (*)(const Value& self, const CallArgs& args);

std::optional<std::string> optional_string(const Value& v, const char* what) {
  if (v.is_none() || v.is_undefined()) return std::nullopt;
  if (!v.is_string()) throw TemplateRuntimeError(std::string("TypeError: ") + what + " must be str or None");
  return v.as_string();
}

const std::string& string_arg(const Value& v, const char* what) {
  if (!v.is_string()) {
    throw TemplateRuntimeError(std::string("TypeError: ") + what + " must be str, not " + v.type_name());
  }
  return v.as_string();
}

int64_t int_arg(const Value& v, const char* what) {
  if (!v.is_integral()) {
    throw TemplateRuntimeError(std::string("TypeError: ") + what + " must be int, not " + v.type_name());
  }
  return v.as_int();
}

Value string_list(std::vector<std::string> parts) {
  ValueList items;
  items.reserve(parts.size());
  for (auto& part : parts) items.emplace_back(std::move(part));
  return Value::list(std::move(items));
}

// startswith/endswith take a string or a tuple (list) of strings.
bool affix_match(const Value& self, const Value& affix, bool prefix) {
  const std::string& s = self.as_string();
  auto one = [&](const Value& a) {
    const std::string& x = string_arg(a, prefix ? "startswith first arg" : "endswith first arg");
    return x.size() <= s.size() && (prefix ? s.compare(0, x.size(), x) == 0
                                           : s.compare(s.size() - x.size(), x.size(), x) == 0);
  };
  if (affix.is_list()) {
    return std::any_of(affix.as_list().begin(), affix.as_list().end(), one);
  }
  return one(affix);
}

template <typename Pred>
bool all_code_points(const std::string& s, Pred pred) {
  const std::u32string cps = utf8_decode(s);
  return !cps.empty() && std::all_of(cps.begin(), cps.end(), pred);
}

utf8proc_category_t category(char32_t c) { return utf8proc_category(static_cast<utf8proc_int32_t>(c)); }
bool is_alpha(char32_t c) {
  const auto k = category(c);
  return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT ||
         k == UTF8PROC_CATEGORY_LM || k == UTF8PROC_CATEGORY_LO;
}
bool is_digit(char32_t c) { return category(c) == UTF8PROC_CATEGORY_ND; }

// str.isupper / islower: at least one cased character, and no cased
// character of the other case.
bool has_case(const std::string& s, bool upper) {
  bool cased = false;
  for (const char32_t c : utf8_decode(s)) {
    const auto k = category(c);
    if (k == UTF8PROC_CATEGORY_LT) return false;
    if (k == UTF8PROC_CATEGORY_LU) {
      if (!upper) return false;
      cased = true;
    } else if (k == UTF8PROC_CATEGORY_LL) {
      if (upper) return false;
      cased = true;
    }
  }
  return cased;
}

Value str_strip(const Value& self, const CallArgs& a, bool left, bool right, const char* name) {
  const auto args = bind_args(name, a, {{"chars", nullptr}});
  return Value(py_strip(self.as_string(), left, right, optional_string(args[0], "strip arg")));
}

struct NamedMethod {
  std::string_view name;
  Method fn;
};

const NamedMethod kStringMethods[] = {
    {"strip", [](const Value& s, const CallArgs& a) { return str_strip(s, a, true, true, "strip"); }},
    {"lstrip", [](const Value& s, const CallArgs& a) { return str_strip(s, a, true, false, "lstrip"); }},
    {"rstrip", [](const Value& s, const CallArgs& a) { return str_strip(s, a, false, true, "rstrip"); }},
    {"upper", [](const Value& s, const CallArgs& a) { bind_args("upper", a, {}); return Value(py_upper(s.as_string())); }},
    {"lower", [](const Value& s, const CallArgs& a) { bind_args("lower", a, {}); return Value(py_lower(s.as_string())); }},
    {"title", [](const Value& s, const CallArgs& a) { bind_args("title", a, {}); return Value(py_title(s.as_string())); }},
    {"capitalize",
     [](const Value& s, const CallArgs& a) { bind_args("capitalize", a, {}); return Value(py_capitalize(s.as_string())); }},
    {"startswith",
     [](const Value& s, const CallArgs& a) { return Value(affix_match(s, bind_args("startswith", a, {"prefix"})[0], true)); }},
    {"endswith",
     [](const Value& s, const CallArgs& a) { return Value(affix_match(s, bind_args("endswith", a, {"suffix"})[0], false)); }},
    {"split",
     [](const Value& s, const CallArgs& a) {
       const auto args = bind_args("split", a, {{"sep", nullptr}, {"maxsplit", -1}});
       return string_list(py_split(s.as_string(), optional_string(args[0], "sep"), int_arg(args[1], "maxsplit")));
     }},
    {"rsplit",
     [](const Value& s, const CallArgs& a) {
       const auto args = bind_args("rsplit", a, {{"sep", nullptr}, {"maxsplit", -1}});
       return string_list(py_rsplit(s.as_string(), optional_string(args[0], "sep"), int_arg(args[1], "maxsplit")));
     }},
    {"splitlines",
     [](const Value& s, const CallArgs& a) {
       const auto args = bind_args("splitlines", a, {{"keepends", false}});
       return string_list(py_splitlines(s.as_string(), args[0].truthy()));
     }},
    {"replace",
     [](const Value& s, const CallArgs& a) {
       const auto args = bind_args("replace", a, {"old", "new", {"count", -1}});
       return Value(py_replace(s.as_string(), string_arg(args[0], "replace arg 1"),
                               string_arg(args[1], "replace arg 2"), int_arg(args[2], "count")));
     }},
    {"find",
     [](const Value& s, const CallArgs& a) {
       return Value(py_find(s.as_string(), string_arg(bind_args("find", a, {"sub"})[0], "find arg")));
     }},
    {"rfind",
     [](const Value& s, const CallArgs& a) {
       return Value(py_find(s.as_string(), string_arg(bind_args("rfind", a, {"sub"})[0], "rfind arg"), true));
     }},
    {"count",
     [](const Value& s, const CallArgs& a) {
       return Value(py_count(s.as_string(), string_arg(bind_args("count", a, {"sub"})[0], "count arg")));
     }},
    {"join",
     [](const Value& s, const CallArgs& a) {
       const ValueList items = iterate(bind_args("join", a, {"iterable"})[0]);
       std::string out;
       for (size_t i = 0; i < items.size(); ++i) {
         if (!items[i].is_string()) {
           throw TemplateRuntimeError("TypeError: sequence item " + std::to_string(i) + ": expected str instance, " +
                                      items[i].type_name() + " found");
         }
         if (i > 0) out += s.as_string();
         out += items[i].as_string();
       }
       return Value(std::move(out));
     }},
    {"removeprefix",
     [](const Value& s, const CallArgs& a) {
       const std::string& x = string_arg(bind_args("removeprefix", a, {"prefix"})[0], "removeprefix arg");
       const std::string& t = s.as_string();
       return Value(t.compare(0, x.size(), x) == 0 ? t.substr(x.size()) : t);
     }},
    {"removesuffix",
     [](const Value& s, const CallArgs& a) {
       const std::string& x = string_arg(bind_args("removesuffix", a, {"suffix"})[0], "removesuffix arg");
       const std::string& t = s.as_string();
       const bool hit = !x.empty() && x.size() <= t.size() && t.compare(t.size() - x.size(), x.size(), x) == 0;
       return Value(hit ? t.substr(0, t.size() - x.size()) : t);
     }},
    {"isdigit", [](const Value& s, const CallArgs& a) { bind_args("isdigit", a, {}); return Value(all_code_points(s.as_string(), is_digit)); }},
    {"isalpha", [](const Value& s, const CallArgs& a) { bind_args("isalpha", a, {}); return Value(all_code_points(s.as_string(), is_alpha)); }},
    {"isalnum",
     [](const Value& s, const CallArgs& a) {
       bind_args("isalnum", a, {});
       return Value(all_code_points(s.as_string(), [](char32_t c) { return is_alpha(c) || is_digit(c); }));
     }},
    {"isspace", [](const Value& s, const CallArgs& a) { bind_args("isspace", a, {}); return Value(all_code_points(s.as_string(), py_isspace)); }},
    {"isupper", [](const Value& s, const CallArgs& a) { bind_args("isupper", a, {}); return Value(has_case(s.as_string(), true)); }},
    {"islower", [](const Value& s, const CallArgs& a) { bind_args("islower", a, {}); return Value(has_case(s.as_string(), false)); }},
};

// Python str methods we do not implement: calling one is refused rather
// than answered with undefined.
constexpr std::string_view kUnsupportedStringMethods[] = {
    "format", "format_map", "encode", "expandtabs", "partition", "rpartition", "ljust", "rjust",
    "center", "zfill", "casefold", "swapcase", "translate", "index", "rindex", "isnumeric",
    "isdecimal", "isidentifier", "isprintable", "istitle", "isascii"};

ValueList dict_items(const ValueDict& dict) {
  ValueList items;
  for (const auto& [k, v] : dict.entries()) items.push_back(Value::tuple({k, v}));
  return items;
}

const NamedMethod kDictMethods[] = {
    {"get",
     [](const Value& d, const CallArgs& a) {
       const auto args = bind_args("get", a, {"key", {"default", nullptr}});
       const Value* found = d.as_dict().find(args[0]);
       return found != nullptr ? *found : args[1];
     }},
    {"items", [](const Value& d, const CallArgs& a) { bind_args("items", a, {}); return Value::list(dict_items(d.as_dict())); }},
    {"keys",
     [](const Value& d, const CallArgs& a) {
       bind_args("keys", a, {});
       ValueList keys;
       for (const auto& entry : d.as_dict().entries()) keys.push_back(entry.first);
       return Value::list(std::move(keys));
     }},
    {"values",
     [](const Value& d, const CallArgs& a) {
       bind_args("values", a, {});
       ValueList values;
       for (const auto& entry : d.as_dict().entries()) values.push_back(entry.second);
       return Value::list(std::move(values));
     }},
};

const NamedMethod kListMethods[] = {
    {"count",
     [](const Value& l, const CallArgs& a) {
       const Value x = bind_args("count", a, {"value"})[0];
       return Value(static_cast<int64_t>(std::count(l.as_list().begin(), l.as_list().end(), x)));
     }},
    {"index",
     [](const Value& l, const CallArgs& a) {
       const Value x = bind_args("index", a, {"value"})[0];
       const auto it = std::find(l.as_list().begin(), l.as_list().end(), x);
       if (it == l.as_list().end()) throw TemplateRuntimeError("ValueError: " + x.repr() + " is not in list");
       return Value(static_cast<int64_t>(it - l.as_list().begin()));
     }},
};

// What the immutable sandbox refuses to call.
constexpr std::string_view kMutatingMethods[] = {"append", "extend", "insert", "pop", "remove", "reverse",
                                                 "sort", "clear", "update", "setdefault", "popitem", "add",
                                                 "discard", "copy"};

Value bind_method(const Value& self, const std::string& type, std::string_view name, Method fn) {
  return Value::function(type + "." + std::string(name),
                         [self, fn](const CallArgs& args) { return fn(self, args); });
}

Value refused_method(const std::string& type, const std::string& name, bool mutating) {
  return Value::function(type + "." + name, [type, name, mutating](const CallArgs&) -> Value {
    if (mutating) {
      throw TemplateRuntimeError("SecurityError: access to attribute '" + name + "' of '" + type +
                                 "' object is unsafe (chat templates cannot modify values)");
    }
    throw TemplateUnsupportedError("the Python method " + type + "." + name + "()");
  });
}

template <size_t N>
std::optional<Value> find_method(const Value& self, const std::string& type, const std::string& name,
                                 const NamedMethod (&table)[N]) {
  for (const NamedMethod& m : table) {
    if (m.name == name) return bind_method(self, type, m.name, m.fn);
  }
  return std::nullopt;
}

bool contains(const std::string_view* begin, const std::string_view* end, const std::string& name) {
  return std::find(begin, end, name) != end;
}

Value missing_attribute(const Value& object, const std::string& name) {
  return Value::undefined(object.object_description() + " has no attribute '" + name + "'");
}

// A Python index into a sequence of `size` elements, or nullopt when out of range.
std::optional<size_t> sequence_index(const Value& key, size_t size) {
  int64_t i = key.as_int();
  if (i < 0) i += static_cast<int64_t>(size);
  if (i < 0 || i >= static_cast<int64_t>(size)) return std::nullopt;
  return static_cast<size_t>(i);
}

}  // namespace

Value get_attribute(const Value& object, const std::string& name) {
  switch (object.kind()) {
    case Value::Kind::kUndefined:
      throw_undefined(object);
    case Value::Kind::kString:
      if (auto m = find_method(object, "str", name, kStringMethods)) return *m;
      if (contains(std::begin(kUnsupportedStringMethods), std::end(kUnsupportedStringMethods), name)) {
        return refused_method("str", name, false);
      }
      return missing_attribute(object, name);
    case Value::Kind::kDict:
      if (auto m = find_method(object, "dict", name, kDictMethods)) return *m;
      if (contains(std::begin(kMutatingMethods), std::end(kMutatingMethods), name)) {
        return refused_method("dict", name, true);
      }
      if (const Value* v = object.as_dict().find(name)) return *v;
      return missing_attribute(object, name);
    case Value::Kind::kList:
      if (auto m = find_method(object, "list", name, kListMethods)) return *m;
      if (contains(std::begin(kMutatingMethods), std::end(kMutatingMethods), name)) {
        return refused_method("list", name, true);
      }
      return missing_attribute(object, name);
    case Value::Kind::kNamespace:
      if (const Value* v = object.namespace_attributes().find(name)) return *v;
      return missing_attribute(object, name);
    default:
      return missing_attribute(object, name);
  }
}

Value get_item(const Value& object, const Value& key) {
  if (object.is_undefined()) throw_undefined(object);
  if (object.is_dict()) {
    if (const Value* v = object.as_dict().find(key)) return *v;
  } else if (object.is_list() && key.is_integral()) {
    if (auto i = sequence_index(key, object.as_list().size())) return object.as_list()[*i];
  } else if (object.is_string() && key.is_integral()) {
    const std::u32string cps = utf8_decode(object.as_string());
    if (auto i = sequence_index(key, cps.size())) return Value(utf8_encode(cps.substr(*i, 1)));
  }
  // Jinja falls back to the attribute for string keys, else undefined.
  if (key.is_string()) return get_attribute(object, key.as_string());
  return Value::undefined(object.object_description() + " has no element " + key.repr());
}

Value get_slice(const Value& object, const Value& start, const Value& stop, const Value& step) {
  if (object.is_undefined()) throw_undefined(object);
  auto bound = [](const Value& v) -> std::optional<int64_t> {
    if (v.is_none() || v.is_undefined()) return std::nullopt;
    return v.as_int();
  };
  for (const Value* part : {&start, &stop, &step}) {
    // Python raises TypeError for non-integer bounds; Jinja turns that into undefined.
    if (!part->is_none() && !part->is_undefined() && !part->is_integral()) return Value::undefined("invalid slice");
  }
  if (!object.is_list() && !object.is_string()) return Value::undefined(object.object_description() + " is not sliceable");
  const int64_t stride = bound(step).value_or(1);
  if (stride == 0) throw TemplateRuntimeError("ValueError: slice step cannot be zero");
  const std::u32string cps = object.is_string() ? utf8_decode(object.as_string()) : std::u32string();
  const auto size = static_cast<int64_t>(object.is_string() ? cps.size() : object.as_list().size());
  // Python's slice.indices().
  const int64_t lower = stride > 0 ? 0 : -1;
  const int64_t upper = stride > 0 ? size : size - 1;
  auto clamp = [&](std::optional<int64_t> v, int64_t fallback) {
    if (!v) return fallback;
    int64_t x = *v < 0 ? *v + size : *v;
    return std::clamp(x, lower, upper);
  };
  const int64_t first = clamp(bound(start), stride > 0 ? lower : upper);
  const int64_t last = clamp(bound(stop), stride > 0 ? upper : lower);
  std::u32string chars;
  ValueList items;
  for (int64_t i = first; stride > 0 ? i < last : i > last; i += stride) {
    if (object.is_string()) {
      chars += cps[static_cast<size_t>(i)];
    } else {
      items.push_back(object.as_list()[static_cast<size_t>(i)]);
    }
  }
  return object.is_string() ? Value(utf8_encode(chars)) : Value::sequence_like(object, std::move(items));
}

ValueList iterate(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kUndefined:
      return {};
    case Value::Kind::kList:
      return value.as_list();
    case Value::Kind::kDict: {
      ValueList keys;
      for (const auto& entry : value.as_dict().entries()) keys.push_back(entry.first);
      return keys;
    }
    case Value::Kind::kString: {
      ValueList chars;
      for (const char32_t c : utf8_decode(value.as_string())) chars.emplace_back(utf8_encode(std::u32string(1, c)));
      return chars;
    }
    default:
      throw TemplateRuntimeError("TypeError: '" + value.type_name() + "' object is not iterable");
  }
}

}  // namespace llmbatch::jinja
