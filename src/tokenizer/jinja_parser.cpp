#include "tokenizer/jinja_parser.h"

#include <algorithm>
#include <initializer_list>
#include <string_view>

#include "tokenizer/jinja_filters.h"

namespace llmbatch::jinja {
namespace {

// Deeper nesting than this is refused rather than risking the stack.
constexpr int kMaxDepth = 256;

bool contains(std::initializer_list<std::string_view> names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

ExprPtr make_expr(Expr::Kind kind, size_t offset) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->offset = offset;
  return e;
}

NodePtr make_node(Node::Kind kind, size_t offset) {
  auto n = std::make_unique<Node>();
  n->kind = kind;
  n->offset = offset;
  return n;
}

class Parser {
 public:
  Parser(const SourceText& source, std::vector<Token> tokens) : source_(source), tokens_(std::move(tokens)) {}

  Program parse() {
    Program program;
    program.body = parse_body({}, "", 0);
    return program;
  }

 private:
  // RAII nesting counter.
  class Nest {
   public:
    Nest(Parser& p, size_t offset) : p_(p) {
      if (++p_.depth_ > kMaxDepth) p_.source_.syntax_error(offset, "template nested too deeply");
    }
    ~Nest() { --p_.depth_; }

   private:
    Parser& p_;
  };

  const Token& cur() const { return tokens_[pos_]; }
  const Token& peek() const { return tokens_[std::min(pos_ + 1, tokens_.size() - 1)]; }
  const Token& advance() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool is_op(std::string_view op) const { return cur().kind == TokenKind::kOperator && cur().text == op; }
  bool is_name(std::string_view name) const { return cur().kind == TokenKind::kName && cur().text == name; }
  bool skip_op(std::string_view op) {
    if (!is_op(op)) return false;
    advance();
    return true;
  }
  bool skip_name(std::string_view name) {
    if (!is_name(name)) return false;
    advance();
    return true;
  }

  static std::string describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::kData: return "template text";
      case TokenKind::kVariableBegin: return "'{{'";
      case TokenKind::kVariableEnd: return "'}}'";
      case TokenKind::kBlockBegin: return "'{%'";
      case TokenKind::kBlockEnd: return "'%}'";
      case TokenKind::kName: return "'" + t.text + "'";
      case TokenKind::kString: return "a string";
      case TokenKind::kInteger:
      case TokenKind::kFloat: return "a number";
      case TokenKind::kOperator: return "'" + t.text + "'";
      case TokenKind::kEnd: return "the end of the template";
    }
    return "a token";
  }

  [[noreturn]] void fail_here(const std::string& expected) const {
    source_.syntax_error(cur().offset, "expected " + expected + ", got " + describe(cur()));
  }
  void expect_op(std::string_view op) {
    if (!skip_op(op)) fail_here("'" + std::string(op) + "'");
  }
  std::string expect_name() {
    if (cur().kind != TokenKind::kName) fail_here("a name");
    return advance().text;
  }
  void expect_block_end() {
    if (cur().kind != TokenKind::kBlockEnd) fail_here("'%}'");
    advance();
  }

  // ---- statements ----

  // Parses until `{% <one of end_names>`, leaving the stream at that name.
  Body parse_body(std::initializer_list<std::string_view> end_names, std::string_view opener,
                  size_t opener_offset) {
    Nest nest(*this, opener_offset);
    Body body;
    while (true) {
      const Token& t = cur();
      switch (t.kind) {
        case TokenKind::kData: {
          auto n = make_node(Node::Kind::kText, t.offset);
          n->text = t.text;
          body.push_back(std::move(n));
          advance();
          break;
        }
        case TokenKind::kVariableBegin: {
          advance();
          auto n = make_node(Node::Kind::kOutput, t.offset);
          n->expr = parse_tuple(true, {});
          if (cur().kind != TokenKind::kVariableEnd) fail_here("'}}'");
          advance();
          body.push_back(std::move(n));
          break;
        }
        case TokenKind::kBlockBegin: {
          advance();
          if (cur().kind == TokenKind::kName && contains(end_names, cur().text)) return body;
          open_blocks_.emplace_back(opener, opener_offset);
          body.push_back(parse_statement());
          open_blocks_.pop_back();
          break;
        }
        case TokenKind::kEnd:
          if (end_names.size() == 0) return body;
          source_.syntax_error(opener_offset, "'{% " + std::string(opener) + " %}' is never closed: expected '{% end" +
                                                  std::string(opener) + " %}' before the end of the template");
        default:
          fail_here("template text or a tag");
      }
    }
  }

  NodePtr parse_statement() {
    const Token& t = cur();
    if (t.kind != TokenKind::kName) fail_here("a statement name");
    const std::string name = t.text;
    if (name == "if") return parse_if();
    if (name == "for") return parse_for();
    if (name == "set") return parse_set();
    if (name == "macro") return parse_macro();
    if (name == "filter") return parse_filter_block();
    if (name == "generation") return parse_generation();
    if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) source_.syntax_error(t.offset, "'" + name + "' outside of a for loop");
      auto n = make_node(name == "break" ? Node::Kind::kBreak : Node::Kind::kContinue, t.offset);
      advance();
      expect_block_end();
      return n;
    }
    static const std::initializer_list<std::string_view> kUnsupported = {
        "include", "import", "from", "extends", "block", "call", "with", "autoescape", "trans"};
    if (contains(kUnsupported, name)) source_.unsupported(t.offset, "the '{% " + name + " %}' statement");
    static const std::initializer_list<std::string_view> kClosers = {
        "elif", "else", "endif", "endfor", "endset", "endmacro", "endfilter", "endgeneration", "endraw"};
    if (contains(kClosers, name)) {
      const auto& [open_name, open_offset] = open_blocks_.back();
      source_.syntax_error(t.offset, "unexpected '{% " + name + " %}': " +
                                         (open_name.empty() ? std::string("no block is open")
                                                            : "the innermost open block is the '{% " + std::string(open_name) +
                                                                  " %}' at " + source_.where(open_offset)));
    }
    source_.syntax_error(t.offset, "unknown tag '" + name + "'");
  }

  NodePtr parse_if() {
    auto n = make_node(Node::Kind::kIf, advance().offset);
    n->conditions.push_back(parse_tuple(false, {}));
    expect_block_end();
    while (true) {
      n->bodies.push_back(parse_body({"elif", "else", "endif"}, "if", n->offset));
      const std::string closer = advance().text;
      if (closer == "elif") {
        n->conditions.push_back(parse_tuple(false, {}));
        expect_block_end();
        continue;
      }
      if (closer == "else") {
        expect_block_end();
        n->bodies.push_back(parse_body({"endif"}, "if", n->offset));
        advance();
      }
      expect_block_end();
      return n;
    }
  }

  // `a` or `a, b` or `(a, b)`: the names a for loop or set assigns.
  std::vector<std::string> parse_target_names(std::string_view end_name) {
    std::vector<std::string> names;
    const bool parenthesized = skip_op("(");
    while (true) {
      names.push_back(expect_name());
      if (!skip_op(",")) break;
      if (is_op(")") || is_op("=") || is_name(end_name) || cur().kind == TokenKind::kBlockEnd) break;
    }
    if (parenthesized) expect_op(")");
    return names;
  }

  NodePtr parse_for() {
    auto n = make_node(Node::Kind::kFor, advance().offset);
    n->targets = parse_target_names("in");
    if (!skip_name("in")) fail_here("'in'");
    n->expr = parse_tuple(false, {"recursive"});
    if (skip_name("if")) n->filter = parse_expression(true);
    if (is_name("recursive")) source_.unsupported(cur().offset, "recursive for loops");
    expect_block_end();
    ++loop_depth_;
    n->body = parse_body({"endfor", "else"}, "for", n->offset);
    --loop_depth_;
    if (advance().text == "else") {
      expect_block_end();
      n->else_body = parse_body({"endfor"}, "for", n->offset);
      advance();
    }
    expect_block_end();
    return n;
  }

  NodePtr parse_set() {
    const size_t offset = advance().offset;
    if (cur().kind == TokenKind::kName && peek().kind == TokenKind::kOperator && peek().text == ".") {
      auto n = make_node(Node::Kind::kSet, offset);
      n->targets.push_back(advance().text);
      advance();
      n->attribute = expect_name();
      expect_op("=");
      n->expr = parse_tuple(true, {});
      expect_block_end();
      return n;
    }
    std::vector<std::string> targets = parse_target_names("");
    if (skip_op("=")) {
      auto n = make_node(Node::Kind::kSet, offset);
      n->targets = std::move(targets);
      n->expr = parse_tuple(true, {});
      expect_block_end();
      return n;
    }
    if (targets.size() != 1) fail_here("'='");
    if (is_op("|")) source_.unsupported(cur().offset, "filters on '{% set %}' blocks");
    expect_block_end();
    auto n = make_node(Node::Kind::kSetBlock, offset);
    n->targets = std::move(targets);
    n->body = parse_body({"endset"}, "set", offset);
    advance();
    expect_block_end();
    return n;
  }

  NodePtr parse_macro() {
    auto n = make_node(Node::Kind::kMacro, advance().offset);
    n->name = expect_name();
    expect_op("(");
    while (!is_op(")")) {
      if (!n->targets.empty()) expect_op(",");
      if (is_op(")")) break;
      n->targets.push_back(expect_name());
      n->defaults.push_back(skip_op("=") ? parse_expression(true) : nullptr);
    }
    advance();
    expect_block_end();
    const int outer_loops = std::exchange(loop_depth_, 0);
    n->body = parse_body({"endmacro"}, "macro", n->offset);
    loop_depth_ = outer_loops;
    advance();
    expect_block_end();
    return n;
  }

  NodePtr parse_filter_block() {
    auto n = make_node(Node::Kind::kFilterBlock, advance().offset);
    n->expr = parse_filters(nullptr, true);
    expect_block_end();
    n->body = parse_body({"endfilter"}, "filter", n->offset);
    advance();
    expect_block_end();
    return n;
  }

  NodePtr parse_generation() {
    auto n = make_node(Node::Kind::kScope, advance().offset);
    expect_block_end();
    n->body = parse_body({"endgeneration"}, "generation", n->offset);
    advance();
    expect_block_end();
    return n;
  }

  // ---- expressions (jinja2/parser.py, lowest precedence first) ----

  bool is_tuple_end(std::initializer_list<std::string_view> extra_end) const {
    const TokenKind k = cur().kind;
    if (k == TokenKind::kVariableEnd || k == TokenKind::kBlockEnd || k == TokenKind::kEnd) return true;
    if (is_op(")")) return true;
    return cur().kind == TokenKind::kName && contains(extra_end, cur().text);
  }

  ExprPtr parse_tuple(bool with_condition, std::initializer_list<std::string_view> extra_end,
                      bool explicit_parentheses = false) {
    const size_t offset = cur().offset;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      if (is_tuple_end(extra_end)) break;
      items.push_back(parse_expression(with_condition));
      if (!is_op(",")) break;
      is_tuple = true;
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items.front());
      if (!explicit_parentheses) fail_here("an expression");
    }
    auto e = make_expr(Expr::Kind::kTuple, offset);
    e->children = std::move(items);
    return e;
  }

  ExprPtr parse_expression(bool with_condition) { return with_condition ? parse_condition() : parse_or(); }

  ExprPtr parse_condition() {
    ExprPtr expr = parse_or();
    while (is_name("if")) {
      auto e = make_expr(Expr::Kind::kCondition, advance().offset);
      e->children.push_back(parse_or());
      e->children.push_back(std::move(expr));
      e->children.push_back(skip_name("else") ? parse_condition() : nullptr);
      expr = std::move(e);
    }
    return expr;
  }

  ExprPtr binary(std::string op, size_t offset, ExprPtr left, ExprPtr right) {
    auto e = make_expr(Expr::Kind::kBinary, offset);
    e->name = std::move(op);
    e->children.push_back(std::move(left));
    e->children.push_back(std::move(right));
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (is_name("or")) {
      const size_t offset = advance().offset;
      left = binary("or", offset, std::move(left), parse_and());
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (is_name("and")) {
      const size_t offset = advance().offset;
      left = binary("and", offset, std::move(left), parse_not());
    }
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      Nest nest(*this, cur().offset);
      auto e = make_expr(Expr::Kind::kUnary, advance().offset);
      e->name = "not";
      e->children.push_back(parse_not());
      return e;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    ExprPtr first = parse_math1();
    ExprPtr e;
    while (true) {
      std::string op;
      const size_t offset = cur().offset;
      if (cur().kind == TokenKind::kOperator &&
          contains({"==", "!=", "<", "<=", ">", ">="}, cur().text)) {
        op = advance().text;
      } else if (is_name("in")) {
        advance();
        op = "in";
      } else if (is_name("not") && peek().kind == TokenKind::kName && peek().text == "in") {
        advance();
        advance();
        op = "not in";
      } else {
        break;
      }
      if (!e) {
        e = make_expr(Expr::Kind::kCompare, offset);
        e->children.push_back(std::move(first));
      }
      e->ops.push_back(std::move(op));
      e->children.push_back(parse_math1());
    }
    return e ? std::move(e) : std::move(first);
  }

  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      const Token& t = advance();
      left = binary(t.text, t.offset, std::move(left), parse_concat());
    }
    return left;
  }

  ExprPtr parse_concat() {
    ExprPtr left = parse_math2();
    while (is_op("~")) {
      const size_t offset = advance().offset;
      left = binary("~", offset, std::move(left), parse_math2());
    }
    return left;
  }

  ExprPtr parse_math2() {
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token& t = advance();
      left = binary(t.text, t.offset, std::move(left), parse_pow());
    }
    return left;
  }

  ExprPtr parse_pow() {
    ExprPtr left = parse_unary(true);
    while (is_op("**")) {
      const size_t offset = advance().offset;
      left = binary("**", offset, std::move(left), parse_unary(true));
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    Nest nest(*this, cur().offset);
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
      const Token& t = advance();
      node = make_expr(Expr::Kind::kUnary, t.offset);
      node->name = t.text;
      node->children.push_back(parse_unary(false));
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    return with_filter ? parse_filter_expr(std::move(node)) : std::move(node);
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    ExprPtr e;
    switch (t.kind) {
      case TokenKind::kName:
        advance();
        e = make_expr(Expr::Kind::kLiteral, t.offset);
        if (t.text == "true" || t.text == "True") {
          e->literal = Value(true);
        } else if (t.text == "false" || t.text == "False") {
          e->literal = Value(false);
        } else if (t.text == "none" || t.text == "None") {
          e->literal = Value(nullptr);
        } else {
          e->kind = Expr::Kind::kName;
          e->name = t.text;
        }
        return e;
      case TokenKind::kString: {
        e = make_expr(Expr::Kind::kLiteral, t.offset);
        std::string text;
        while (cur().kind == TokenKind::kString) text += advance().text;  // 'a' 'b' == 'ab'
        e->literal = Value(std::move(text));
        return e;
      }
      case TokenKind::kInteger:
      case TokenKind::kFloat:
        advance();
        e = make_expr(Expr::Kind::kLiteral, t.offset);
        e->literal = t.kind == TokenKind::kInteger ? Value(t.int_value) : Value(t.float_value);
        return e;
      case TokenKind::kOperator:
        if (t.text == "(") {
          advance();
          e = parse_tuple(true, {}, true);
          expect_op(")");
          return e;
        }
        if (t.text == "[") return parse_list();
        if (t.text == "{") return parse_dict();
        break;
      default:
        break;
    }
    source_.syntax_error(t.offset, "unexpected " + describe(t));
  }

  ExprPtr parse_list() {
    auto e = make_expr(Expr::Kind::kList, advance().offset);
    while (!is_op("]")) {
      if (!e->children.empty()) expect_op(",");
      if (is_op("]")) break;
      e->children.push_back(parse_expression(true));
    }
    advance();
    return e;
  }

  ExprPtr parse_dict() {
    auto e = make_expr(Expr::Kind::kDict, advance().offset);
    while (!is_op("}")) {
      if (!e->children.empty()) expect_op(",");
      if (is_op("}")) break;
      e->children.push_back(parse_expression(true));
      expect_op(":");
      e->children.push_back(parse_expression(true));
    }
    advance();
    return e;
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      if (is_op(".") || is_op("[")) {
        node = parse_subscript(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (is_op("|")) {
        node = parse_filters(std::move(node), false);
      } else if (is_name("is")) {
        node = parse_test(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr node) {
    const Token& t = advance();
    if (t.text == ".") {
      const Token& attr = advance();
      if (attr.kind == TokenKind::kName) {
        auto e = make_expr(Expr::Kind::kGetAttr, t.offset);
        e->name = attr.text;
        e->children.push_back(std::move(node));
        return e;
      }
      if (attr.kind != TokenKind::kInteger) source_.syntax_error(attr.offset, "expected a name or number after '.'");
      auto e = make_expr(Expr::Kind::kGetItem, t.offset);
      e->children.push_back(std::move(node));
      auto index = make_expr(Expr::Kind::kLiteral, attr.offset);
      index->literal = Value(attr.int_value);
      e->children.push_back(std::move(index));
      return e;
    }
    // '[': an index or a slice; `a[1, 2]` (a tuple key) is not supported.
    std::vector<ExprPtr> parts;
    bool is_slice = false;
    parts.push_back(is_op(":") ? nullptr : parse_expression(true));
    while (skip_op(":")) {
      is_slice = true;
      parts.push_back(is_op(":") || is_op("]") ? nullptr : parse_expression(true));
    }
    if (parts.size() > 3) source_.syntax_error(t.offset, "a slice has at most three parts");
    if (is_op(",")) source_.unsupported(cur().offset, "tuple subscripts");
    expect_op("]");
    auto e = make_expr(is_slice ? Expr::Kind::kSlice : Expr::Kind::kGetItem, t.offset);
    e->children.push_back(std::move(node));
    for (auto& part : parts) e->children.push_back(std::move(part));
    while (is_slice && e->children.size() < 4) e->children.push_back(nullptr);
    return e;
  }

  // Parses `(args, key=value)` into e->children (after existing ones) and e->kwargs.
  void parse_call_args(Expr& e) {
    const size_t open = cur().offset;
    expect_op("(");
    bool need_comma = false;
    while (!is_op(")")) {
      if (need_comma) {
        expect_op(",");
        if (is_op(")")) break;
      }
      if (is_op("*") || is_op("**")) source_.unsupported(cur().offset, "*args / **kwargs in calls");
      if (cur().kind == TokenKind::kName && peek().kind == TokenKind::kOperator && peek().text == "=") {
        std::string key = advance().text;
        advance();
        e.kwargs.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (!e.kwargs.empty()) source_.syntax_error(open, "invalid syntax for function call expression");
        e.children.push_back(parse_expression(true));
      }
      need_comma = true;
    }
    advance();
  }

  ExprPtr parse_call(ExprPtr node) {
    auto e = make_expr(Expr::Kind::kCall, cur().offset);
    e->children.push_back(std::move(node));
    parse_call_args(*e);
    return e;
  }

  std::string parse_dotted_name() {
    std::string name = expect_name();
    while (skip_op(".")) name += "." + expect_name();
    return name;
  }

  // `| name(args) | name2 ...`; `node` is null for a {% filter %} block.
  ExprPtr parse_filters(ExprPtr node, bool start_inline) {
    while (is_op("|") || start_inline) {
      if (!start_inline) advance();
      start_inline = false;
      const size_t offset = cur().offset;
      auto e = make_expr(Expr::Kind::kFilter, offset);
      e->name = parse_dotted_name();
      if (filter_support(e->name) == Support::kUnsupported) source_.unsupported(offset, "the '" + e->name + "' filter");
      e->children.push_back(std::move(node));
      if (is_op("(")) parse_call_args(*e);
      node = std::move(e);
    }
    return node;
  }

  ExprPtr parse_test(ExprPtr node) {
    auto e = make_expr(Expr::Kind::kTest, advance().offset);
    e->negated = skip_name("not");
    const size_t name_offset = cur().offset;
    e->offset = name_offset;  // errors point at the test's name
    e->name = parse_dotted_name();
    if (test_support(e->name) == Support::kUnsupported) source_.unsupported(name_offset, "the '" + e->name + "' test");
    e->children.push_back(std::move(node));
    if (is_op("(")) {
      parse_call_args(*e);
    } else if ((cur().kind == TokenKind::kName || cur().kind == TokenKind::kString ||
                cur().kind == TokenKind::kInteger || cur().kind == TokenKind::kFloat || is_op("[") ||
                is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) source_.syntax_error(cur().offset, "you cannot chain multiple tests with 'is'");
      e->children.push_back(parse_postfix(parse_primary()));  // `x is divisibleby 3`
    }
    return e;
  }

  const SourceText& source_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  // The blocks being parsed, innermost last ("" for the template itself).
  std::vector<std::pair<std::string_view, size_t>> open_blocks_;
};

// Unknown filter and test names are compile errors in Jinja, except in
// "soft" frames (an if statement's test and body, a conditional
// expression), where Jinja 3.1 defers them to run time so that templates can
// guard uses of optional filters. Loop, macro and block bodies are hard again.
class NameChecker {
 public:
  explicit NameChecker(const SourceText& source) : source_(source) {}

  void body(const Body& nodes, bool soft) {
    for (const NodePtr& n : nodes) node(*n, soft);
  }

 private:
  void node(const Node& n, bool soft) {
    switch (n.kind) {
      case Node::Kind::kIf:
        for (const auto& c : n.conditions) expr(c.get(), true);
        for (const auto& b : n.bodies) body(b, true);
        return;
      case Node::Kind::kFor:
        expr(n.expr.get(), soft);
        expr(n.filter.get(), false);
        body(n.body, false);
        body(n.else_body, soft);
        return;
      case Node::Kind::kMacro:
        for (const auto& d : n.defaults) expr(d.get(), false);
        body(n.body, false);
        return;
      case Node::Kind::kSetBlock:
      case Node::Kind::kFilterBlock:
      case Node::Kind::kScope:
        expr(n.expr.get(), false);
        body(n.body, false);
        return;
      default:
        expr(n.expr.get(), soft);
    }
  }

  void expr(const Expr* e, bool soft) {
    if (e == nullptr) return;
    soft = soft || e->kind == Expr::Kind::kCondition;
    if (!soft && e->kind == Expr::Kind::kFilter && filter_support(e->name) == Support::kUnknown) {
      source_.syntax_error(e->offset, "no filter named '" + e->name + "'");
    }
    if (!soft && e->kind == Expr::Kind::kTest && test_support(e->name) == Support::kUnknown) {
      source_.syntax_error(e->offset, "no test named '" + e->name + "'");
    }
    for (const auto& child : e->children) expr(child.get(), soft);
    for (const auto& kw : e->kwargs) expr(kw.second.get(), soft);
  }

  const SourceText& source_;
};

}  // namespace

Program parse_template(const SourceText& source) {
  Program program = Parser(source, tokenize(source)).parse();
  NameChecker(source).body(program.body, false);
  return program;
}

}  // namespace llmbatch::jinja
