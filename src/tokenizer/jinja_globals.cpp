#include "tokenizer/jinja_globals.h"

#include "core/error.h"
#include "tokenizer/jinja_error.h"

namespace llmbatch::jinja {
namespace {

// Jinja's sandbox refuses longer ranges (MAX_RANGE).
constexpr int64_t kMaxRange = 100000;

Value range(const CallArgs& args) {
  if (!args.keyword.empty()) throw TemplateRuntimeError("TypeError: range() takes no keyword arguments");
  const auto& p = args.positional;
  if (p.empty() || p.size() > 3) throw TemplateRuntimeError("TypeError: range expected 1 to 3 arguments");
  for (const Value& v : p) {
    if (!v.is_integral()) {
      throw TemplateRuntimeError("TypeError: '" + v.type_name() + "' object cannot be interpreted as an integer");
    }
  }
  const int64_t start = p.size() == 1 ? 0 : p[0].as_int();
  const int64_t stop = p.size() == 1 ? p[0].as_int() : p[1].as_int();
  const int64_t step = p.size() == 3 ? p[2].as_int() : 1;
  if (step == 0) throw TemplateRuntimeError("ValueError: range() arg 3 must not be zero");
  ValueList items;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (static_cast<int64_t>(items.size()) >= kMaxRange) {
      throw TemplateRuntimeError("OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
    }
    items.emplace_back(i);
  }
  return Value::list(std::move(items));
}

// Python's dict(*args, **kwargs): a mapping or (key, value) pairs, then keywords.
ValueDict make_dict(const CallArgs& args) {
  if (args.positional.size() > 1) throw TemplateRuntimeError("TypeError: dict expected at most 1 argument");
  ValueDict dict;
  if (!args.positional.empty()) {
    const Value& source = args.positional.front();
    if (source.is_dict()) {
      dict = source.as_dict();
    } else if (source.is_list()) {
      for (const Value& pair : source.as_list()) {
        if (!pair.is_list() || pair.as_list().size() != 2) {
          throw TemplateRuntimeError("ValueError: dictionary update sequence element has the wrong length");
        }
        dict.set(pair.as_list()[0], pair.as_list()[1]);
      }
    } else {
      throw TemplateRuntimeError("TypeError: '" + source.type_name() + "' object is not iterable");
    }
  }
  for (const auto& [key, value] : args.keyword) dict.set(Value(key), value);
  return dict;
}

Value refused(const char* name) {
  return Value::function(name, [name](const CallArgs&) -> Value {
    throw TemplateUnsupportedError(std::string("Jinja's ") + name + "()");
  });
}

}  // namespace

void add_builtin_globals(Globals& globals, const BuiltinOptions& options) {
  globals["range"] = Value::function("range", range);
  globals["dict"] = Value::function("dict", [](const CallArgs& args) { return Value::dict(make_dict(args)); });
  globals["namespace"] = Value::function("namespace", [](const CallArgs& args) {
    ValueDict attributes = make_dict(args);
    for (const auto& [key, value] : attributes.entries()) {
      if (key.is_string() && !key.as_string().empty() && key.as_string().front() == '_') {
        throw TemplateRuntimeError("SecurityError: chat templates cannot store underscore-prefixed attributes on a namespace");
      }
    }
    return Value::make_namespace(std::move(attributes));
  });
  globals["raise_exception"] = Value::function("raise_exception", [origin = options.origin](const CallArgs& args) -> Value {
    const std::vector<Value> bound = bind_args("raise_exception", args, {"message"});
    // The template's own message, unchanged: it is the error a user sees.
    throw InputError(bound[0].str(), {.file = origin});
  });
  globals["strftime_now"] = Value::function("strftime_now", [now = options.now](const CallArgs& args) {
    const std::string format = bind_args("strftime_now", args, {"format"})[0].str();
    std::tm when{};
    if (now) {
      when = *now;
    } else {
      const std::time_t t = std::time(nullptr);
      localtime_r(&t, &when);
    }
    char buf[1024];  // 0 is both "empty result" and "too long"; both render as ""
    const size_t n = std::strftime(buf, sizeof(buf), format.c_str(), &when);
    return Value(std::string(buf, n));
  });
  for (const char* name : {"lipsum", "cycler", "joiner"}) globals[name] = refused(name);
}

}  // namespace llmbatch::jinja
