#include "tokenizer/jinja_filters.h"

#include <utf8proc.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tokenizer/jinja_error.h"
#include "tokenizer/jinja_json.h"
#include "tokenizer/jinja_methods.h"
#include "tokenizer/jinja_operators.h"
#include "tokenizer/jinja_text.h"

namespace llmbatch::jinja {
namespace {

using FilterFn = Value (*)(const Value& input, const CallArgs& args);
using TestFn = bool (*)(const Value& input, const CallArgs& args);

// ---- helpers shared by several filters ----

// Jinja's soft_str: str() of anything, '' for undefined.
std::string text_of(const Value& v) { return v.str(); }

// Jinja's make_attrgetter: "a.b" or "0" walks items (ints for digit parts).
Value lookup_attribute(const Value& item, const Value& attribute) {
  if (!attribute.is_string()) return get_item(item, attribute);
  Value current = item;
  for (const std::string& part : py_split(attribute.as_string(), std::string("."))) {
    // A digit part is an index; one past int64 indexes nothing (Python's
    // big int would be out of range too), so it stays a string key.
    int64_t index = 0;
    const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), index);
    const bool is_index = !part.empty() && error == std::errc() && end == part.data() + part.size() && part[0] != '-';
    current = get_item(current, is_index ? Value(index) : Value(part));
  }
  return current;
}

// Sorting key: with case_sensitive=False strings compare lowercased.
Value sort_key(const Value& v, bool case_sensitive) {
  return !case_sensitive && v.is_string() ? Value(py_lower(v.as_string())) : v;
}

Value keyed(const Value& item, const Value& attribute, bool case_sensitive) {
  return sort_key(attribute.is_none() ? item : lookup_attribute(item, attribute), case_sensitive);
}

int64_t length_of(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return 0;
    case Value::Kind::kString: return static_cast<int64_t>(utf8_length(v.as_string()));
    case Value::Kind::kList: return static_cast<int64_t>(v.as_list().size());
    case Value::Kind::kDict: return static_cast<int64_t>(v.as_dict().size());
    default: throw TemplateRuntimeError("TypeError: object of type '" + v.type_name() + "' has no len()");
  }
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// The aggregate of min/max: the first of the extreme items.
Value extreme(const Value& input, const CallArgs& a, bool want_max, const char* name) {
  const auto args = bind_args(name, a, {{"case_sensitive", false}, {"attribute", nullptr}});
  const ValueList items = iterate(input);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  for (size_t i = 1; i < items.size(); ++i) {
    const Value x = keyed(items[i], args[1], args[0].truthy());
    const Value y = keyed(items[best], args[1], args[0].truthy());
    if (want_max ? less_than(y, x) : less_than(x, y)) best = i;
  }
  return items[best];
}

// select / reject / selectattr / rejectattr.
Value select_items(const Value& input, const CallArgs& a, bool by_attribute, bool keep_if) {
  CallArgs rest = a;
  Value attribute(nullptr);
  if (by_attribute) {
    if (rest.positional.empty()) throw TemplateRuntimeError("TypeError: missing the attribute to select on");
    attribute = rest.positional.front();
    rest.positional.erase(rest.positional.begin());
  }
  std::string test;
  if (!rest.positional.empty()) {
    test = text_of(rest.positional.front());
    rest.positional.erase(rest.positional.begin());
    if (test_support(test) != Support::kImplemented) throw TemplateRuntimeError("no test named '" + test + "'");
  }
  ValueList kept;
  for (const Value& item : iterate(input)) {
    const Value subject = by_attribute ? lookup_attribute(item, attribute) : item;
    const bool passed = test.empty() ? subject.truthy() : apply_test(test, subject, rest);
    if (passed == keep_if) kept.push_back(item);
  }
  return Value::list(std::move(kept));
}

std::optional<double> parse_float(const std::string& s) {
  const std::string t = py_strip(s, true, true);
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  const double d = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return std::nullopt;
  return d;
}

std::optional<int64_t> parse_int(const std::string& s, int base) {
  std::string t = py_strip(s, true, true);
  t.erase(std::remove(t.begin(), t.end(), '_'), t.end());
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(t.c_str(), &end, base);
  if (end != t.c_str() + t.size() || errno != 0) return std::nullopt;
  return v;
}

// Python's sorted(): stable, and reverse=True keeps equal items in order.
Value sorted_list(ValueList items, bool reverse, bool case_sensitive, const Value& attribute) {
  std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
    const Value kx = keyed(x, attribute, case_sensitive);
    const Value ky = keyed(y, attribute, case_sensitive);
    return reverse ? less_than(ky, kx) : less_than(kx, ky);
  });
  return Value::list(std::move(items));
}

bool is_word_char(char32_t c) {
  if (c == '_') return true;
  const auto k = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) || (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
}

// ---- filters ----

struct NamedFilter {
  std::string_view name;
  FilterFn fn;
};

const NamedFilter kFilters[] = {
    {"abs",
     [](const Value& v, const CallArgs& a) {
       bind_args("abs", a, {});
       if (!v.is_number()) throw TemplateRuntimeError("TypeError: bad operand type for abs(): '" + v.type_name() + "'");
       return v.is_float() ? Value(std::fabs(v.as_float())) : Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
     }},
    {"attr",
     [](const Value& v, const CallArgs& a) {
       const std::string name = text_of(bind_args("attr", a, {"name"})[0]);
       // Attributes only (methods, namespace fields), never dict items.
       if (v.is_dict() && v.as_dict().find(name) != nullptr) {
         return Value::undefined(v.object_description() + " has no attribute '" + name + "'");
       }
       return get_attribute(v, name);
     }},
    {"capitalize", [](const Value& v, const CallArgs& a) { bind_args("capitalize", a, {}); return Value(py_capitalize(text_of(v))); }},
    {"default",
     [](const Value& v, const CallArgs& a) {
       const auto args = bind_args("default", a, {{"default_value", ""}, {"boolean", false}});
       return v.is_undefined() || (args[1].truthy() && !v.truthy()) ? args[0] : v;
     }},
    {"dictsort",
     [](const Value& v, const CallArgs& a) {
       const auto args = bind_args("dictsort", a, {{"case_sensitive", false}, {"by", "key"}, {"reverse", false}});
       if (!v.is_dict()) throw TemplateRuntimeError("TypeError: dictsort expects a mapping");
       const std::string by = text_of(args[1]);
       if (by != "key" && by != "value") throw TemplateRuntimeError("You can only sort by either \"key\" or \"value\"");
       ValueList pairs;
       for (const auto& [k, x] : v.as_dict().entries()) pairs.push_back(Value::tuple({k, x}));
       return sorted_list(std::move(pairs), args[2].truthy(), args[0].truthy(), Value(by == "key" ? 0 : 1));
     }},
    {"escape", [](const Value& v, const CallArgs& a) { bind_args("escape", a, {}); return Value(html_escape(text_of(v))); }},
    {"first",
     [](const Value& v, const CallArgs& a) {
       bind_args("first", a, {});
       const ValueList items = iterate(v);
       return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
     }},
    {"float",
     [](const Value& v, const CallArgs& a) {
       const auto args = bind_args("float", a, {{"default", 0.0}});
       if (v.is_number()) return Value(v.as_float());
       if (v.is_string()) {
         if (auto d = parse_float(v.as_string())) return Value(*d);
       }
       return args[0];
     }},
    {"indent",
     [](const Value& v, const CallArgs& a) {
       const auto args = bind_args("indent", a, {{"width", 4}, {"first", false}, {"blank", false}});
       const std::string pad = args[0].is_string() ? args[0].as_string() : std::string(static_cast<size_t>(std::max<int64_t>(0, args[0].as_int())), ' ');
       const std::vector<std::string> lines = py_splitlines(text_of(v) + "\n");
       std::string out;
       for (size_t i = 0; i < lines.size(); ++i) {
         if (i > 0) out += "\n";
         const bool indent_line = i > 0 && (args[2].truthy() || !lines[i].empty());
         out += (indent_line ? pad : "") + lines[i];
       }
       return Value(args[1].truthy() ? pad + out : out);
     }},
    {"int",
     [](const Value& v, const CallArgs& a) {
       const auto args = bind_args("int", a, {{"default", 0}, {"base", 10}});
       if (v.is_integral()) return Value(v.as_int());
       if (v.is_float()) return std::isfinite(v.as_float()) ? Value(static_cast<int64_t>(v.as_float())) : args[0];
       if (v.is_string()) {
         if (auto i = parse_int(v.as_string(), static_cast<int>(args[1].as_int()))) return Value(*i);
         if (auto d = parse_float(v.as_string()); d && std::isfinite(*d)) return Value(static_cast<int64_t>(*d));
       }
       return args[0];
     }},
    {"items",
     [](const Value& v, const CallArgs& a) {
       bind_args("items", a, {});
       if (v.is_undefined()) return Value::list({});
       if (!v.is_dict()) throw TemplateRuntimeError("Can only get item pairs from a mapping.");
       ValueList pairs;
       for (const auto& [k, x] : v.as_dict().entries()) pairs.push_back(Value::tuple({k, x}));
       return Value::list(std::move(pairs));
     }},
    {"join",
     [](const Value& v, const CallArgs& a) {
       const auto args = bind_args("join", a, {{"d", ""}, {"attribute", nullptr}});
       std::string out;
       bool first = true;
       for (const Value& item : iterate(v)) {
         if (!first) out += text_of(args[0]);
         first = false;
         out += text_of(args[1].is_none() ? item : lookup_attribute(item, args[1]));
       }
       return Value(std::move(out));
     }},
    {"last",
     [](const Value& v, const CallArgs& a) {
       bind_args("last", a, {});
       const ValueList items = iterate(v);
       return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
     }},
    {"length", [](const Value& v, const CallArgs& a) { bind_args("length", a, {}); return Value(length_of(v)); }},
    {"list", [](const Value& v, const CallArgs& a) { bind_args("list", a, {}); return Value::list(iterate(v)); }},
    {"lower", [](const Value& v, const CallArgs& a) { bind_args("lower", a, {}); return Value(py_lower(text_of(v))); }},
    {"map",
     [](const Value& v, const CallArgs& a) {
       ValueList out;
       if (a.positional.empty()) {
         Value attribute;
         Value fallback(nullptr);
         for (const auto& [key, value] : a.keyword) {
           if (key == "attribute") attribute = value;
           else if (key == "default") fallback = value;
           else throw TemplateRuntimeError("Unexpected keyword argument '" + key + "'");
         }
         if (attribute.is_undefined()) throw TemplateRuntimeError("map requires a filter name or attribute=");
         for (const Value& item : iterate(v)) {
           Value x = lookup_attribute(item, attribute);
           out.push_back(x.is_undefined() && !fallback.is_none() ? fallback : x);
         }
         return Value::list(std::move(out));
       }
       const std::string name = text_of(a.positional.front());
       if (filter_support(name) != Support::kImplemented) throw TemplateRuntimeError("No filter named '" + name + "'");
       CallArgs rest = a;
       rest.positional.erase(rest.positional.begin());
       for (const Value& item : iterate(v)) out.push_back(apply_filter(name, item, rest));
       return Value::list(std::move(out));
     }},
    {"max", [](const Value& v, const CallArgs& a) { return extreme(v, a, true, "max"); }},
    {"min", [](const Value& v, const CallArgs& a) { return extreme(v, a, false, "min"); }},
    {"reject", [](const Value& v, const CallArgs& a) { return select_items(v, a, false, false); }},
    {"rejectattr", [](const Value& v, const CallArgs& a) { return select_items(v, a, true, false); }},
    {"replace",
     [](const Value& v, const CallArgs& a) {
       const auto args = bind_args("replace", a, {"old", "new", {"count", nullptr}});
       const int64_t count = args[2].is_none() ? -1 : args[2].as_int();
       return Value(py_replace(text_of(v), text_of(args[0]), text_of(args[1]), count));
     }},
    {"reverse",
     [](const Value& v, const CallArgs& a) {
       bind_args("reverse", a, {});
       if (v.is_string()) return get_slice(v, Value(nullptr), Value(nullptr), Value(-1));
       ValueList items = iterate(v);
       std::reverse(items.begin(), items.end());
       return Value::list(std::move(items));
     }},
    {"round",
     [](const Value& v, const CallArgs& a) {
       const auto args = bind_args("round", a, {{"precision", 0}, {"method", "common"}});
       const std::string method = text_of(args[1]);
       if (!v.is_number()) throw TemplateRuntimeError("TypeError: round expects a number");
       const int64_t precision = args[0].as_int();
       if (method == "common") {
         if (v.is_integral() && precision >= 0) return Value(v.as_int());
         // Python's round(): correctly rounded, ties to even, like printf.
         char buf[512];
         std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(std::clamp<int64_t>(precision, 0, 300)), v.as_float());
         return Value(std::strtod(buf, nullptr));
       }
       const double scale = std::pow(10.0, static_cast<double>(precision));
       if (method == "ceil") return Value(std::ceil(v.as_float() * scale) / scale);
       if (method == "floor") return Value(std::floor(v.as_float() * scale) / scale);
       throw TemplateRuntimeError("method must be common, ceil or floor");
     }},
    {"safe", [](const Value& v, const CallArgs& a) { bind_args("safe", a, {}); return Value(text_of(v)); }},
    {"select", [](const Value& v, const CallArgs& a) { return select_items(v, a, false, true); }},
    {"selectattr", [](const Value& v, const CallArgs& a) { return select_items(v, a, true, true); }},
    {"sort",
     [](const Value& v, const CallArgs& a) {
       const auto args = bind_args("sort", a, {{"reverse", false}, {"case_sensitive", false}, {"attribute", nullptr}});
       return sorted_list(iterate(v), args[0].truthy(), args[1].truthy(), args[2]);
     }},
    {"string", [](const Value& v, const CallArgs& a) { bind_args("string", a, {}); return Value(text_of(v)); }},
    {"sum",
     [](const Value& v, const CallArgs& a) {
       const auto args = bind_args("sum", a, {{"attribute", nullptr}, {"start", 0}});
       Value total = args[1];
       for (const Value& item : iterate(v)) {
         total = binary_op("+", total, args[0].is_none() ? item : lookup_attribute(item, args[0]));
       }
       return total;
     }},
    {"title",
     [](const Value& v, const CallArgs& a) {
       // Jinja's own title: upper-case the first character after -, space or an opening bracket.
       bind_args("title", a, {});
       std::string out;
       bool word_start = true;
       for (const char32_t c : utf8_decode(text_of(v))) {
         const bool separator = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || py_isspace(c);
         const std::string one = utf8_encode(std::u32string(1, c));
         out += separator ? one : word_start ? py_upper(one) : py_lower(one);
         word_start = separator;
       }
       return Value(std::move(out));
     }},
    {"tojson",
     [](const Value& v, const CallArgs& a) {
       const auto args = bind_args("tojson", a, {{"ensure_ascii", false}, {"indent", nullptr}, {"separators", nullptr}, {"sort_keys", false}});
       JsonDumpOptions options{.ensure_ascii = args[0].truthy(), .sort_keys = args[3].truthy()};
       if (args[1].is_string()) options.indent = args[1].as_string();
       if (args[1].is_integral()) options.indent = std::string(static_cast<size_t>(std::max<int64_t>(0, args[1].as_int())), ' ');
       if (!args[2].is_none()) {
         if (!args[2].is_list() || args[2].as_list().size() != 2) throw TemplateRuntimeError("separators must be a pair of strings");
         options.item_separator = text_of(args[2].as_list()[0]);
         options.key_separator = text_of(args[2].as_list()[1]);
       }
       return Value(to_json(v, options));
     }},
    {"trim",
     [](const Value& v, const CallArgs& a) {
       const Value chars = bind_args("trim", a, {{"chars", nullptr}})[0];
       return Value(py_strip(text_of(v), true, true, chars.is_none() ? std::nullopt : std::optional<std::string>(text_of(chars))));
     }},
    {"unique",
     [](const Value& v, const CallArgs& a) {
       const auto args = bind_args("unique", a, {{"case_sensitive", false}, {"attribute", nullptr}});
       ValueList seen;
       ValueList out;
       for (const Value& item : iterate(v)) {
         const Value key = keyed(item, args[1], args[0].truthy());
         if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
         seen.push_back(key);
         out.push_back(item);
       }
       return Value::list(std::move(out));
     }},
    {"upper", [](const Value& v, const CallArgs& a) { bind_args("upper", a, {}); return Value(py_upper(text_of(v))); }},
    {"wordcount",
     [](const Value& v, const CallArgs& a) {
       bind_args("wordcount", a, {});
       int64_t words = 0;
       bool in_word = false;
       for (const char32_t c : utf8_decode(text_of(v))) {
         const bool w = is_word_char(c);
         if (w && !in_word) ++words;
         in_word = w;
       }
       return Value(words);
     }},
};

constexpr std::pair<std::string_view, std::string_view> kFilterAliases[] = {
    {"count", "length"}, {"d", "default"}, {"e", "escape"}};

// Jinja built-ins this interpreter does not implement.
constexpr std::string_view kUnsupportedFilters[] = {
    "batch", "center", "filesizeformat", "forceescape", "format", "groupby", "pprint", "random",
    "slice", "striptags", "truncate", "urlencode", "urlize", "wordwrap", "xmlattr"};

// ---- tests ----

struct NamedTest {
  std::string_view name;
  TestFn fn;
};

Value one_arg(const char* name, const CallArgs& a) { return bind_args(name, a, {"other"})[0]; }

const NamedTest kTests[] = {
    {"boolean", [](const Value& v, const CallArgs&) { return v.is_bool(); }},
    {"callable", [](const Value& v, const CallArgs&) { return v.is_function(); }},
    {"defined", [](const Value& v, const CallArgs&) { return !v.is_undefined(); }},
    {"divisibleby",
     [](const Value& v, const CallArgs& a) {
       const Value n = bind_args("divisibleby", a, {"num"})[0];
       return binary_op("%", v, n) == Value(0);
     }},
    {"eq", [](const Value& v, const CallArgs& a) { return compare("==", v, one_arg("eq", a)); }},
    {"escaped", [](const Value&, const CallArgs&) { return false; }},
    {"even", [](const Value& v, const CallArgs&) { return binary_op("%", v, Value(2)) == Value(0); }},
    {"false", [](const Value& v, const CallArgs&) { return v.is_bool() && !v.as_bool(); }},
    {"filter", [](const Value& v, const CallArgs&) { return v.is_string() && filter_support(v.as_string()) != Support::kUnknown; }},
    {"float", [](const Value& v, const CallArgs&) { return v.is_float(); }},
    {"ge", [](const Value& v, const CallArgs& a) { return compare(">=", v, one_arg("ge", a)); }},
    {"gt", [](const Value& v, const CallArgs& a) { return compare(">", v, one_arg("gt", a)); }},
    {"in", [](const Value& v, const CallArgs& a) { return contains(bind_args("in", a, {"seq"})[0], v); }},
    {"integer", [](const Value& v, const CallArgs&) { return v.is_int(); }},
    {"iterable",
     [](const Value& v, const CallArgs&) { return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict(); }},
    {"le", [](const Value& v, const CallArgs& a) { return compare("<=", v, one_arg("le", a)); }},
    {"lower", [](const Value& v, const CallArgs&) { return text_of(v) != "" && py_lower(text_of(v)) == text_of(v) && py_upper(text_of(v)) != text_of(v); }},
    {"lt", [](const Value& v, const CallArgs& a) { return compare("<", v, one_arg("lt", a)); }},
    {"mapping", [](const Value& v, const CallArgs&) { return v.is_dict(); }},
    {"ne", [](const Value& v, const CallArgs& a) { return compare("!=", v, one_arg("ne", a)); }},
    {"none", [](const Value& v, const CallArgs&) { return v.is_none(); }},
    {"number", [](const Value& v, const CallArgs&) { return v.is_number(); }},
    {"odd", [](const Value& v, const CallArgs&) { return binary_op("%", v, Value(2)) == Value(1); }},
    {"sameas",
     [](const Value& v, const CallArgs& a) {
       // Python identity: singletons and shared containers; equal scalars otherwise.
       const Value other = one_arg("sameas", a);
       if (v.kind() != other.kind()) return false;
       if (v.is_float()) return false;
       return v == other;
     }},
    {"sequence",
     [](const Value& v, const CallArgs&) { return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict(); }},
    {"string", [](const Value& v, const CallArgs&) { return v.is_string(); }},
    {"test", [](const Value& v, const CallArgs&) { return v.is_string() && test_support(v.as_string()) != Support::kUnknown; }},
    {"true", [](const Value& v, const CallArgs&) { return v.is_bool() && v.as_bool(); }},
    {"undefined", [](const Value& v, const CallArgs&) { return v.is_undefined(); }},
    {"upper", [](const Value& v, const CallArgs&) { return text_of(v) != "" && py_upper(text_of(v)) == text_of(v) && py_lower(text_of(v)) != text_of(v); }},
};

constexpr std::pair<std::string_view, std::string_view> kTestAliases[] = {
    {"==", "eq"}, {"equalto", "eq"}, {"!=", "ne"}, {">", "gt"}, {"greaterthan", "gt"}, {">=", "ge"},
    {"<", "lt"}, {"lessthan", "lt"}, {"<=", "le"}};

template <typename Table, size_t N, size_t M>
const Table* find_named(std::string_view name, const Table (&table)[N],
                        const std::pair<std::string_view, std::string_view> (&aliases)[M]) {
  for (const auto& [alias, target] : aliases) {
    if (alias == name) name = target;
  }
  for (const Table& entry : table) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

}  // namespace

Support filter_support(std::string_view name) {
  if (find_named(name, kFilters, kFilterAliases) != nullptr) return Support::kImplemented;
  if (std::find(std::begin(kUnsupportedFilters), std::end(kUnsupportedFilters), name) != std::end(kUnsupportedFilters)) {
    return Support::kUnsupported;
  }
  return Support::kUnknown;
}

Support test_support(std::string_view name) {
  return find_named(name, kTests, kTestAliases) != nullptr ? Support::kImplemented : Support::kUnknown;
}

Value apply_filter(std::string_view name, const Value& input, const CallArgs& args) {
  const NamedFilter* filter = find_named(name, kFilters, kFilterAliases);
  if (filter == nullptr) throw TemplateRuntimeError("no filter named '" + std::string(name) + "'");
  return filter->fn(input, args);
}

bool apply_test(std::string_view name, const Value& input, const CallArgs& args) {
  const NamedTest* test = find_named(name, kTests, kTestAliases);
  if (test == nullptr) throw TemplateRuntimeError("no test named '" + std::string(name) + "'");
  return test->fn(input, args);
}

}  // namespace llmbatch::jinja
