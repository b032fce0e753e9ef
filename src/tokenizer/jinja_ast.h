// The syntax tree of a parsed template: expressions and statements, each
// with the byte offset it starts at (for "line L, column C" in errors).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja_value.h"

namespace llmbatch::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,    // literal
    kName,       // name
    kList,       // [children...]
    kTuple,      // (children...) or a, b
    kDict,       // {children[0]: children[1], ...} (pairs flattened)
    kGetAttr,    // children[0].name
    kGetItem,    // children[0][children[1]]
    kSlice,      // children[0][children[1]:children[2]:children[3]] (null = omitted)
    kCall,       // children[0](children[1..], kwargs)
    kFilter,     // children[0] | name(children[1..], kwargs)
    kTest,       // children[0] is [not] name(children[1..], kwargs)
    kUnary,      // name ("-", "+", "not") children[0]
    kBinary,     // children[0] name children[1]: + - * / // % ** ~ and or
    kCompare,    // children[0] ops[0] children[1] ops[1] children[2] ... (chained)
    kCondition,  // children[1] if children[0] else children[2] (children[2] may be null)
  };

  Kind kind;
  size_t offset = 0;
  Value literal;
  std::string name;
  std::vector<ExprPtr> children;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;  // kCompare: "==", "!=", "<", "<=", ">", ">=", "in", "not in"
  bool negated = false;          // kTest: `is not`
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

struct Node {
  enum class Kind {
    kText,        // text
    kOutput,      // {{ expr }}
    kIf,          // if/elif chain: conditions[i] guards bodies[i]; bodies.back() is the else
                  // body when bodies.size() > conditions.size()
    kFor,         // for targets in expr [if filter]: body [else: else_body]
    kSet,         // set targets = expr; or set targets[0].attribute = expr (namespace)
    kSetBlock,    // set targets[0] %}body{% endset
    kFilterBlock, // filter name(args) %}body{% endfilter: expr is the filter applied to a
                  // placeholder name
    kMacro,       // macro name(targets = defaults) %}body{% endmacro
    kBreak,
    kContinue,
    kScope,       // a body rendered in place: transformers' {% generation %}
  };

  Kind kind;
  size_t offset = 0;
  std::string text;                   // kText
  ExprPtr expr;                       // kOutput, kFor (iterable), kSet (value), kFilterBlock
  ExprPtr filter;                     // kFor: `if` filter
  std::vector<std::string> targets;   // kFor / kSet names; kMacro parameter names
  std::string attribute;              // kSet: `set ns.attribute = ...`
  std::string name;                   // kMacro
  std::vector<ExprPtr> defaults;      // kMacro: one per parameter, null = no default
  std::vector<ExprPtr> conditions;    // kIf
  std::vector<Body> bodies;           // kIf
  Body body;                          // kFor, kSetBlock, kFilterBlock, kMacro, kScope
  Body else_body;                     // kFor
};

// A parsed template. Holds the source so errors can name line and column.
struct Program {
  Body body;
};

}  // namespace llmbatch::jinja
