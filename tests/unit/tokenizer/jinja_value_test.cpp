// The Python semantics under the interpreter: str()/repr() of values, float
// repr, equality, str methods, json.dumps. Expected values are what CPython 3
// prints for the same expression (given in the comments).
#include <gtest/gtest.h>

#include "tokenizer/jinja_error.h"
#include "tokenizer/jinja_json.h"
#include "tokenizer/jinja_methods.h"
#include "tokenizer/jinja_operators.h"
#include "tokenizer/jinja_text.h"
#include "tokenizer/jinja_value.h"

namespace llmbatch::jinja {
namespace {

using Strings = std::vector<std::string>;

TEST(JinjaValueTest, FloatReprMatchesPython) {
  EXPECT_EQ(py_float_repr(1e22), "1e+22");                    // repr(1e22)
  EXPECT_EQ(py_float_repr(5e-324), "5e-324");                 // repr(5e-324)
  EXPECT_EQ(py_float_repr(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(py_float_repr(-1234.5), "-1234.5");
  EXPECT_EQ(py_float_repr(100.0), "100.0");
  EXPECT_EQ(py_float_repr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(py_float_repr(1e16), "1e+16");
  EXPECT_EQ(py_float_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(py_float_repr(0.0001), "0.0001");
  EXPECT_EQ(py_float_repr(0.00001), "1e-05");
}

TEST(JinjaValueTest, StrAndReprMatchPython) {
  EXPECT_EQ(Value(nullptr).str(), "None");
  EXPECT_EQ(Value(true).str(), "True");
  EXPECT_EQ(Value().str(), "");
  EXPECT_EQ(Value("it's").repr(), "\"it's\"");  // repr("it's")
  EXPECT_EQ(Value("a\"b").repr(), "'a\"b'");
  EXPECT_EQ(Value("\x01\xC3\xA9\xE2\x80\x8B\xF0\x9F\x98\x80").repr(), "'\\x01\xC3\xA9\\u200b\xF0\x9F\x98\x80'");
  ValueDict d;
  d.set("k", Value::list({Value(1), Value(2.5), Value(nullptr), Value::tuple({Value("t")})}));
  EXPECT_EQ(Value::dict(d).str(), "{'k': [1, 2.5, None, ('t',)]}");
  EXPECT_EQ(Value::make_namespace(d).str(), "<Namespace {'k': [1, 2.5, None, ('t',)]}>");
}

TEST(JinjaValueTest, EqualityAndOrderFollowPython) {
  EXPECT_TRUE(Value(1) == Value(1.0));
  EXPECT_TRUE(Value(true) == Value(1));
  EXPECT_FALSE(Value("1") == Value(1));
  EXPECT_FALSE(Value::list({Value(1)}) == Value::tuple({Value(1)}));  // [1] != (1,)
  EXPECT_TRUE(Value() == Value::undefined("x"));
  EXPECT_TRUE(less_than(Value("a"), Value("b")));
  EXPECT_TRUE(less_than(Value::list({Value(1), Value(2)}), Value::list({Value(1), Value(3)})));
  EXPECT_THROW(less_than(Value(1), Value("a")), TemplateRuntimeError);
  EXPECT_THROW(less_than(Value(), Value(1)), TemplateRuntimeError);
  EXPECT_FALSE(Value("").truthy());
  EXPECT_TRUE(Value::make_namespace({}).truthy());
}

TEST(JinjaValueTest, BindArgsLikePython) {
  const CallArgs args{{Value(1)}, {{"b", Value(2)}}};
  const auto bound = bind_args("f", args, {"a", "b", {"c", Value(3)}});
  EXPECT_EQ(bound, (std::vector<Value>{Value(1), Value(2), Value(3)}));
  EXPECT_THROW(bind_args("f", args, {"a"}), TemplateRuntimeError);                         // unexpected b
  EXPECT_THROW(bind_args("f", CallArgs{}, {"a"}), TemplateRuntimeError);                   // missing a
  EXPECT_THROW(bind_args("f", CallArgs{{Value(1), Value(2)}, {}}, {"a"}), TemplateRuntimeError);  // too many
}

TEST(JinjaOperatorsTest, ArithmeticFollowsPython) {
  EXPECT_EQ(binary_op("//", Value(-7), Value(2)), Value(-4));   // -7 // 2
  EXPECT_EQ(binary_op("%", Value(-7), Value(3)), Value(2));     // -7 % 3
  EXPECT_EQ(binary_op("%", Value(7), Value(-3)), Value(-2));    // 7 % -3
  EXPECT_EQ(binary_op("/", Value(7), Value(2)), Value(3.5));
  EXPECT_TRUE(binary_op("/", Value(6), Value(3)).is_float());   // 6 / 3 == 2.0
  EXPECT_EQ(binary_op("**", Value(2), Value(-1)), Value(0.5));
  EXPECT_EQ(binary_op("*", Value("ab"), Value(2)), Value("abab"));
  EXPECT_EQ(unary_op("-", Value(true)), Value(-1));
  EXPECT_THROW(binary_op("+", Value("a"), Value(1)), TemplateRuntimeError);
  EXPECT_THROW(binary_op("//", Value(1), Value(0)), TemplateRuntimeError);
  EXPECT_THROW(binary_op("*", Value(INT64_MAX), Value(2)), TemplateRuntimeError);
  EXPECT_TRUE(compare("in", Value("b"), Value("abc")));
  EXPECT_TRUE(compare("not in", Value(3), Value::list({Value(1)})));
  EXPECT_TRUE(contains(Value::list({Value(1.0)}), Value(1)));
  EXPECT_THROW(contains(Value(5), Value(1)), TemplateRuntimeError);
}

TEST(JinjaTextTest, StrMethodsMatchPython) {
  EXPECT_EQ(py_split("  a  b ", std::nullopt, 1), (Strings{"a", "b "}));  // '  a  b '.split(None, 1)
  EXPECT_EQ(py_rsplit("a,b,,c", std::string(","), 2), (Strings{"a,b", "", "c"}));
  EXPECT_EQ(py_splitlines("x\r\ny\n", true), (Strings{"x\r\n", "y\n"}));
  EXPECT_EQ(py_replace("abc", "", "-"), "-a-b-c-");
  EXPECT_EQ(py_replace("abc", "", "-", 2), "-a-bc");
  EXPECT_EQ(py_title("hello wORLD they're"), "Hello World They'Re");
  EXPECT_EQ(py_capitalize("\xC7\x86x"), "\xC7\x85x");  // 'ǆx'.capitalize() == 'ǅx' (titlecase)
  EXPECT_EQ(py_strip("\xE3\x80\x80 x \x1C", true, true), "x");  // U+3000 and \x1c are whitespace
  EXPECT_EQ(py_strip("\xC2\xA0x", true, false), "x");            // so is U+00A0
  EXPECT_EQ(py_strip("\xE2\x80\x8Bx", true, false), "\xE2\x80\x8Bx");  // U+200B is not
  EXPECT_EQ(py_find("h\xC3\xA9llo", "l"), 2);  // code points, not bytes
  EXPECT_EQ(py_count("aaaa", "aa"), 2);
  EXPECT_EQ(utf8_length("h\xC3\xA9\xF0\x9F\x98\x80"), 3u);
  EXPECT_EQ(utf8_encode(utf8_decode("\xE6\x97\xA5\xFF")), "\xE6\x97\xA5\xEF\xBF\xBD");  // bad byte -> U+FFFD
  EXPECT_THROW(py_split("a", std::string()), TemplateRuntimeError);
  EXPECT_EQ(py_upper("stra\xC3\x9F" "e"), "STRASSE");  // full case mapping
  EXPECT_EQ(py_lower("\xC3\x89T\xC3\x89"), "\xC3\xA9t\xC3\xA9");
  EXPECT_TRUE(py_isprintable(U'\u00e9'));
  EXPECT_FALSE(py_isprintable(U'\u200b'));
  EXPECT_TRUE(py_isspace(U'\u2028'));
  EXPECT_EQ(py_repr_string("a'b\"c"), "'a\\'b\"c'");  // both quotes: single, escaped
}

TEST(JinjaMethodsTest, AccessFollowsTheSandbox) {
  ValueDict d;
  d.set("items", "a key named items");
  d.set("role", "user");
  const Value dict = Value::dict(d);
  EXPECT_TRUE(get_attribute(dict, "items").is_function());             // d.items: the method
  EXPECT_EQ(get_item(dict, Value("items")), Value("a key named items"));  // d['items']: the key
  EXPECT_EQ(get_attribute(dict, "role"), Value("user"));
  EXPECT_TRUE(get_attribute(dict, "nope").is_undefined());
  EXPECT_THROW(get_attribute(Value(), "x"), TemplateRuntimeError);
  EXPECT_TRUE(get_item(Value(nullptr), Value(0)).is_undefined());
  EXPECT_THROW(get_attribute(dict, "update").call({}), TemplateRuntimeError);
  const Value list = Value::list({Value(1), Value(2), Value(3)});
  EXPECT_EQ(get_item(list, Value(-1)), Value(3));
  EXPECT_TRUE(get_item(list, Value(3)).is_undefined());
  EXPECT_EQ(get_slice(list, Value(nullptr), Value(nullptr), Value(-2)), Value::list({Value(3), Value(1)}));
  EXPECT_EQ(get_slice(Value("h\xC3\xA9llo"), Value(-4), Value(3), Value(nullptr)), Value("\xC3\xA9l"));
  EXPECT_THROW(get_slice(list, Value(nullptr), Value(nullptr), Value(0)), TemplateRuntimeError);
  EXPECT_EQ(iterate(dict), (ValueList{Value("items"), Value("role")}));
  EXPECT_EQ(iterate(Value("h\xC3\xA9")), (ValueList{Value("h"), Value("\xC3\xA9")}));
  EXPECT_THROW(iterate(Value(nullptr)), TemplateRuntimeError);
  EXPECT_EQ(get_attribute(Value(" x "), "strip").call({}), Value("x"));
}

TEST(JinjaJsonTest, DumpsLikePythonJson) {
  const nlohmann::ordered_json in = nlohmann::ordered_json::parse(R"({"b": [1, {"c": null}], "\u00e9": "\u007f\u001f", "f": 1.0})");
  const Value v = from_json(in);
  // json.dumps(v, ensure_ascii=False)
  EXPECT_EQ(to_json(v, {}), "{\"b\": [1, {\"c\": null}], \"\xC3\xA9\": \"\x7F\\u001f\", \"f\": 1.0}");
  // json.dumps(v, indent=2, ensure_ascii=True, sort_keys=True)
  EXPECT_EQ(to_json(v, {.ensure_ascii = true, .indent = "  ", .sort_keys = true}),
            "{\n  \"b\": [\n    1,\n    {\n      \"c\": null\n    }\n  ],\n  \"f\": 1.0,\n  \"\\u00e9\": \"\\u007f\\u001f\"\n}");
  EXPECT_EQ(to_json(Value("\xF0\x9F\x98\x80"), {.ensure_ascii = true}), "\"\\ud83d\\ude00\"");
  EXPECT_EQ(to_json(Value::list({}), {.indent = "  "}), "[]");
  EXPECT_THROW(to_json(Value(), {}), TemplateRuntimeError);
  EXPECT_THROW(from_json(nlohmann::ordered_json(UINT64_MAX)), TemplateUnsupportedError);
  nlohmann::ordered_json deep = 1;
  for (int i = 0; i < 600; ++i) deep = nlohmann::ordered_json::array({deep});
  EXPECT_THROW(from_json(deep), TemplateUnsupportedError);
}

}  // namespace
}  // namespace llmbatch::jinja
