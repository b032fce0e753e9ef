#include "tokenizer/jinja_interpreter.h"

#include <memory>

#include "core/error.h"
#include "tokenizer/jinja_error.h"
#include "tokenizer/jinja_filters.h"
#include "tokenizer/jinja_methods.h"
#include "tokenizer/jinja_operators.h"

namespace llmbatch::jinja {
namespace {

// Macro calls deeper than this are refused (Python would hit its recursion limit).
constexpr int kMaxCallDepth = 200;
constexpr const char* kHint = "the messages do not fit what the chat template expects";

struct Scope {
  explicit Scope(std::shared_ptr<Scope> parent) : parent(std::move(parent)) {}
  std::unordered_map<std::string, Value> vars;
  std::shared_ptr<Scope> parent;
};
using ScopePtr = std::shared_ptr<Scope>;

enum class Flow { kNormal, kBreak, kContinue };

class Renderer {
 public:
  Renderer(const SourceText& source, const Globals& globals) : source_(source), globals_(globals) {}

  std::string render(const Body& body) {
    std::string out;
    exec_body(body, out, std::make_shared<Scope>(nullptr));
    return out;
  }

 private:
  [[noreturn]] void fail(size_t offset, const std::string& what) const {
    throw InputError("chat template " + source_.where(offset) + ": " + what, {.file = source_.origin()}, kHint);
  }

  // Runs `f`, placing the position-less errors of values and built-ins at `offset`.
  template <typename F>
  auto located(size_t offset, F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const TemplateRuntimeError& e) {
      fail(offset, e.what());
    } catch (const TemplateUnsupportedError& e) {
      source_.unsupported(offset, e.what());
    }
  }

  Value lookup(const std::string& name, const Scope* scope) const {
    for (; scope != nullptr; scope = scope->parent.get()) {
      if (const auto it = scope->vars.find(name); it != scope->vars.end()) return it->second;
    }
    if (const auto it = globals_.find(name); it != globals_.end()) return it->second;
    return Value::undefined("'" + name + "' is undefined");
  }

  // Assigns `value` to one name, or unpacks it over several (`for k, v in ...`).
  void bind(const std::vector<std::string>& targets, const Value& value, Scope& scope, size_t offset) {
    if (targets.size() == 1) {
      scope.vars[targets.front()] = value;
      return;
    }
    const ValueList parts = located(offset, [&] { return iterate(value); });
    if (parts.size() != targets.size()) {
      fail(offset, parts.size() < targets.size()
                       ? "ValueError: not enough values to unpack (expected " + std::to_string(targets.size()) +
                             ", got " + std::to_string(parts.size()) + ")"
                       : "ValueError: too many values to unpack (expected " + std::to_string(targets.size()) + ")");
    }
    for (size_t i = 0; i < targets.size(); ++i) scope.vars[targets[i]] = parts[i];
  }

  // ---- expressions ----

  Value eval(const Expr& e, const ScopePtr& scope) {
    return located(e.offset, [&] { return eval_here(e, scope); });
  }

  CallArgs eval_args(const Expr& e, size_t first, const ScopePtr& scope) {
    CallArgs args;
    for (size_t i = first; i < e.children.size(); ++i) args.positional.push_back(eval(*e.children[i], scope));
    for (const auto& [key, value] : e.kwargs) args.keyword.emplace_back(key, eval(*value, scope));
    return args;
  }

  Value eval_optional(const ExprPtr& e, const ScopePtr& scope) { return e ? eval(*e, scope) : Value(nullptr); }

  Value eval_here(const Expr& e, const ScopePtr& scope) {
    switch (e.kind) {
      case Expr::Kind::kLiteral:
        return e.literal;
      case Expr::Kind::kName:
        return lookup(e.name, scope.get());
      case Expr::Kind::kList:
      case Expr::Kind::kTuple: {
        ValueList items;
        for (const auto& child : e.children) items.push_back(eval(*child, scope));
        return e.kind == Expr::Kind::kTuple ? Value::tuple(std::move(items)) : Value::list(std::move(items));
      }
      case Expr::Kind::kDict: {
        ValueDict dict;
        for (size_t i = 0; i + 1 < e.children.size(); i += 2) {
          dict.set(eval(*e.children[i], scope), eval(*e.children[i + 1], scope));
        }
        return Value::dict(std::move(dict));
      }
      case Expr::Kind::kGetAttr:
        return get_attribute(eval(*e.children[0], scope), e.name);
      case Expr::Kind::kGetItem:
        return get_item(eval(*e.children[0], scope), eval(*e.children[1], scope));
      case Expr::Kind::kSlice:
        return get_slice(eval(*e.children[0], scope), eval_optional(e.children[1], scope),
                         eval_optional(e.children[2], scope), eval_optional(e.children[3], scope));
      case Expr::Kind::kCall: {
        const Value callee = eval(*e.children[0], scope);
        const CallArgs args = eval_args(e, 1, scope);
        if (callee.is_undefined()) throw_undefined(callee);
        if (!callee.is_function()) throw TemplateRuntimeError("TypeError: '" + callee.type_name() + "' object is not callable");
        return callee.call(args);
      }
      case Expr::Kind::kFilter: {
        const Value input = e.children[0] ? eval(*e.children[0], scope) : block_input_;
        return apply_filter(e.name, input, eval_args(e, 1, scope));
      }
      case Expr::Kind::kTest: {
        const Value input = eval(*e.children[0], scope);
        return Value(apply_test(e.name, input, eval_args(e, 1, scope)) != e.negated);
      }
      case Expr::Kind::kUnary: {
        const Value v = eval(*e.children[0], scope);
        return e.name == "not" ? Value(!v.truthy()) : unary_op(e.name, v);
      }
      case Expr::Kind::kBinary:
        return eval_binary(e, scope);
      case Expr::Kind::kCompare: {
        Value left = eval(*e.children[0], scope);
        for (size_t i = 0; i < e.ops.size(); ++i) {
          Value right = eval(*e.children[i + 1], scope);
          if (!compare(e.ops[i], left, right)) return Value(false);
          left = std::move(right);
        }
        return Value(true);
      }
      case Expr::Kind::kCondition:
        if (eval(*e.children[0], scope).truthy()) return eval(*e.children[1], scope);
        if (e.children[2]) return eval(*e.children[2], scope);
        return Value::undefined("the inline if-expression evaluated to false and no else section was defined");
    }
    throw TemplateRuntimeError("unknown expression");
  }

  Value eval_binary(const Expr& e, const ScopePtr& scope) {
    Value left = eval(*e.children[0], scope);
    // `and` / `or` return an operand, as in Python.
    if (e.name == "and") return left.truthy() ? eval(*e.children[1], scope) : left;
    if (e.name == "or") return left.truthy() ? left : eval(*e.children[1], scope);
    const Value right = eval(*e.children[1], scope);
    if (e.name == "~") return Value(left.str() + right.str());
    return binary_op(e.name, left, right);
  }

  // ---- statements ----

  Flow exec_body(const Body& body, std::string& out, const ScopePtr& scope) {
    for (const NodePtr& node : body) {
      const Flow flow = exec(*node, out, scope);
      if (flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
  }

  Flow exec(const Node& n, std::string& out, const ScopePtr& scope) {
    switch (n.kind) {
      case Node::Kind::kText:
        out += n.text;
        return Flow::kNormal;
      case Node::Kind::kOutput:
        out += eval(*n.expr, scope).str();
        return Flow::kNormal;
      case Node::Kind::kIf:
        for (size_t i = 0; i < n.conditions.size(); ++i) {
          if (eval(*n.conditions[i], scope).truthy()) return exec_body(n.bodies[i], out, scope);
        }
        if (n.bodies.size() > n.conditions.size()) return exec_body(n.bodies.back(), out, scope);
        return Flow::kNormal;
      case Node::Kind::kFor:
        return exec_for(n, out, scope);
      case Node::Kind::kSet:
        exec_set(n, scope);
        return Flow::kNormal;
      case Node::Kind::kSetBlock: {
        std::string captured;
        exec_body(n.body, captured, std::make_shared<Scope>(scope));
        scope->vars[n.targets.front()] = Value(std::move(captured));
        return Flow::kNormal;
      }
      case Node::Kind::kFilterBlock: {
        std::string captured;
        exec_body(n.body, captured, std::make_shared<Scope>(scope));
        const Value saved = std::exchange(block_input_, Value(std::move(captured)));
        out += eval(*n.expr, scope).str();
        block_input_ = saved;
        return Flow::kNormal;
      }
      case Node::Kind::kMacro:
        define_macro(n, scope);
        return Flow::kNormal;
      case Node::Kind::kBreak:
        return Flow::kBreak;
      case Node::Kind::kContinue:
        return Flow::kContinue;
      case Node::Kind::kScope:
        return exec_body(n.body, out, std::make_shared<Scope>(scope));
    }
    return Flow::kNormal;
  }

  static Value loop_info(const ValueList& items, size_t i) {
    const auto index = static_cast<int64_t>(i);
    const auto length = static_cast<int64_t>(items.size());
    std::vector<std::pair<Value, Value>> loop;
    loop.reserve(12);
    loop.emplace_back("index", Value(index + 1));
    loop.emplace_back("index0", Value(index));
    loop.emplace_back("revindex", Value(length - index));
    loop.emplace_back("revindex0", Value(length - index - 1));
    loop.emplace_back("first", Value(i == 0));
    loop.emplace_back("last", Value(index == length - 1));
    loop.emplace_back("length", Value(length));
    loop.emplace_back("depth", Value(1));
    loop.emplace_back("depth0", Value(0));
    loop.emplace_back("previtem", i > 0 ? items[i - 1] : Value::undefined("there is no previous item"));
    loop.emplace_back("nextitem", index + 1 < length ? items[i + 1] : Value::undefined("there is no next item"));
    loop.emplace_back("cycle", Value::function("loop.cycle", [index](const CallArgs& args) {
                        if (args.positional.empty()) throw TemplateRuntimeError("TypeError: no items for cycling given");
                        return args.positional[static_cast<size_t>(index) % args.positional.size()];
                      }));
    return Value::dict(ValueDict(std::move(loop)));
  }

  Flow exec_for(const Node& n, std::string& out, const ScopePtr& scope) {
    const Value iterable = eval(*n.expr, scope);
    ValueList items = located(n.expr->offset, [&] { return iterate(iterable); });
    if (n.filter) {
      ValueList kept;
      for (const Value& item : items) {
        const auto s = std::make_shared<Scope>(scope);
        bind(n.targets, item, *s, n.offset);
        if (eval(*n.filter, s).truthy()) kept.push_back(item);
      }
      items = std::move(kept);
    }
    if (items.empty()) return exec_body(n.else_body, out, std::make_shared<Scope>(scope));
    for (size_t i = 0; i < items.size(); ++i) {
      const auto s = std::make_shared<Scope>(scope);
      bind(n.targets, items[i], *s, n.offset);
      s->vars["loop"] = loop_info(items, i);
      if (exec_body(n.body, out, s) == Flow::kBreak) break;
    }
    return Flow::kNormal;
  }

  void exec_set(const Node& n, const ScopePtr& scope) {
    const Value value = eval(*n.expr, scope);
    if (n.attribute.empty()) {
      bind(n.targets, value, *scope, n.offset);
      return;
    }
    const Value target = lookup(n.targets.front(), scope.get());
    if (!target.is_namespace()) fail(n.offset, "cannot assign attribute on non-namespace object");
    if (n.attribute.front() == '_') {
      // transformers' TemplateNamespace refuses these.
      fail(n.offset, "SecurityError: chat templates cannot store underscore-prefixed attributes on a namespace");
    }
    target.namespace_attributes().set(Value(n.attribute), value);
  }

  void define_macro(const Node& n, const ScopePtr& scope) {
    // A weak pointer: the macro is stored in the scope it captures.
    std::weak_ptr<Scope> defining = scope;
    const Node* node = &n;
    scope->vars[n.name] = Value::function(n.name, [this, node, defining](const CallArgs& args) {
      return call_macro(*node, defining.lock(), args);
    });
  }

  Value call_macro(const Node& n, const ScopePtr& defining, const CallArgs& args) {
    if (!defining) throw TemplateRuntimeError("macro '" + n.name + "' called after its scope ended");
    if (call_depth_ >= kMaxCallDepth) throw TemplateRuntimeError("RecursionError: macro calls nested too deeply");
    if (args.positional.size() > n.targets.size()) {
      throw TemplateRuntimeError("TypeError: macro '" + n.name + "' takes not more than " +
                                 std::to_string(n.targets.size()) + " argument(s)");
    }
    const auto s = std::make_shared<Scope>(defining);
    std::vector<bool> given(n.targets.size(), false);
    for (size_t i = 0; i < args.positional.size(); ++i) {
      s->vars[n.targets[i]] = args.positional[i];
      given[i] = true;
    }
    for (const auto& [key, value] : args.keyword) {
      const auto it = std::find(n.targets.begin(), n.targets.end(), key);
      if (it == n.targets.end()) {
        throw TemplateRuntimeError("TypeError: macro '" + n.name + "' takes no keyword argument '" + key + "'");
      }
      s->vars[key] = value;
      given[static_cast<size_t>(it - n.targets.begin())] = true;
    }
    for (size_t i = 0; i < n.targets.size(); ++i) {
      if (given[i]) continue;
      s->vars[n.targets[i]] = n.defaults[i] ? eval(*n.defaults[i], s)
                                            : Value::undefined("parameter '" + n.targets[i] + "' was not provided");
    }
    ++call_depth_;
    std::string out;
    try {
      exec_body(n.body, out, s);
    } catch (...) {
      --call_depth_;
      throw;
    }
    --call_depth_;
    return Value(std::move(out));
  }

  const SourceText& source_;
  const Globals& globals_;
  Value block_input_;  // the captured body of the innermost {% filter %} block
  int call_depth_ = 0;
};

}  // namespace

std::string render_program(const Program& program, const SourceText& source, const Globals& globals) {
  return Renderer(source, globals).render(program.body);
}

}  // namespace llmbatch::jinja
