#include "model/json_reader.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model_test_util.h"

namespace llmbatch {
namespace {

using test::message_of;
using test::thrown;

nlohmann::json parse(const char* text) { return nlohmann::json::parse(text); }

// The ConfigError `f` throws names `file` and `key` in its context and text.
template <typename F>
void expect_config_error(F&& f, const std::string& file, const std::string& key, const std::string& part) {
  const auto e = thrown<ConfigError>(std::forward<F>(f));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->context().file, file);
  EXPECT_EQ(e->context().key, key);
  EXPECT_CONTAINS(e->what(), "'" + key + "'");
  EXPECT_CONTAINS(e->what(), part);
}

TEST(JsonReaderTest, RejectsNonObjects) {
  for (const char* text : {"[1, 2]", "3", "\"x\"", "null"}) {
    const auto json = parse(text);
    EXPECT_THROW(JsonReader(json, "c.json"), ConfigError) << text;
  }
}

TEST(JsonReaderTest, HasTreatsNullAsAbsent) {
  const auto json = parse(R"({"a": 1, "b": null, "c": false})");
  const JsonReader r(json, "c.json");
  EXPECT_TRUE(r.has("a"));
  EXPECT_TRUE(r.has("c"));
  EXPECT_FALSE(r.has("b"));
  EXPECT_FALSE(r.has("d"));
}

TEST(JsonReaderTest, PositiveInt) {
  const auto json = parse(R"({"n": 32000, "zero": 0, "neg": -4, "float": 2.5, "whole_float": 2.0,
                              "text": "32000", "flag": true, "null": null, "huge": 9223372036854775808})");
  const JsonReader r(json, "config.json");
  EXPECT_EQ(r.positive_int("n"), 32000);
  expect_config_error([&] { r.positive_int("missing"); }, "config.json", "missing", "is missing");
  expect_config_error([&] { r.positive_int("null"); }, "config.json", "null", "is missing");
  expect_config_error([&] { r.positive_int("zero"); }, "config.json", "zero", "positive");
  expect_config_error([&] { r.positive_int("neg"); }, "config.json", "neg", "-4");
  expect_config_error([&] { r.positive_int("float"); }, "config.json", "float", "integer");
  expect_config_error([&] { r.positive_int("whole_float"); }, "config.json", "whole_float", "integer");
  expect_config_error([&] { r.positive_int("text"); }, "config.json", "text", "integer");
  expect_config_error([&] { r.positive_int("flag"); }, "config.json", "flag", "integer");
  // 2^63 does not fit an int64: refused, and reported as written.
  expect_config_error([&] { r.positive_int("huge"); }, "config.json", "huge", "9223372036854775808");
  EXPECT_EQ(std::string(message_of<ConfigError>([&] { r.positive_int("huge"); })).find("-9223372036854775808"),
            std::string::npos);
}

TEST(JsonReaderTest, OptionalInt) {
  const auto json = parse(R"({"a": -3, "b": null, "c": 1.5, "d": "7", "max": 9223372036854775807,
                              "min": -9223372036854775808, "over": 18446744073709551615})");
  const JsonReader r(json, "g.json");
  EXPECT_EQ(r.optional_int("a"), -3);  // any sign
  EXPECT_EQ(r.optional_int("b"), std::nullopt);
  EXPECT_EQ(r.optional_int("absent"), std::nullopt);
  EXPECT_EQ(r.optional_int("max"), INT64_MAX);
  EXPECT_EQ(r.optional_int("min"), INT64_MIN);
  expect_config_error([&] { r.optional_int("c"); }, "g.json", "c", "1.5");
  expect_config_error([&] { r.optional_int("d"); }, "g.json", "d", "integer");
  // 2^64 - 1 must not come back as -1 (a token id of -1 would pass silently).
  expect_config_error([&] { r.optional_int("over"); }, "g.json", "over", "18446744073709551615");
}

TEST(JsonReaderTest, PositiveNumber) {
  const auto json = parse(R"({"eps": 1e-05, "int": 5, "zero": 0.0, "neg": -1.5, "text": "1e-5"})");
  const JsonReader r(json, "config.json");
  EXPECT_DOUBLE_EQ(r.positive_number("eps"), 1e-5);
  EXPECT_DOUBLE_EQ(r.positive_number("int"), 5.0);  // an integer is a number
  expect_config_error([&] { r.positive_number("absent"); }, "config.json", "absent", "is missing");
  expect_config_error([&] { r.positive_number("zero"); }, "config.json", "zero", "positive");
  expect_config_error([&] { r.positive_number("neg"); }, "config.json", "neg", "positive");
  expect_config_error([&] { r.positive_number("text"); }, "config.json", "text", "number");
}

TEST(JsonReaderTest, OptionalNumber) {
  const auto json = parse(R"({"t": 0.6, "neg": -2, "null": null, "list": [1]})");
  const JsonReader r(json, "g.json");
  EXPECT_EQ(r.optional_number("t"), 0.6);
  EXPECT_EQ(r.optional_number("neg"), -2.0);
  EXPECT_EQ(r.optional_number("null"), std::nullopt);
  EXPECT_EQ(r.optional_number("absent"), std::nullopt);
  expect_config_error([&] { r.optional_number("list"); }, "g.json", "list", "number");
}

TEST(JsonReaderTest, OptionalBool) {
  const auto json = parse(R"({"yes": true, "no": false, "text": "true", "one": 1})");
  const JsonReader r(json, "c.json");
  EXPECT_EQ(r.optional_bool("yes"), true);
  EXPECT_EQ(r.optional_bool("no"), false);
  EXPECT_EQ(r.optional_bool("absent"), std::nullopt);
  expect_config_error([&] { r.optional_bool("text"); }, "c.json", "text", "true or false");
  expect_config_error([&] { r.optional_bool("one"); }, "c.json", "one", "true or false");
}

TEST(JsonReaderTest, OptionalString) {
  const auto json = parse(R"({"act": "silu", "empty": "", "num": 3})");
  const JsonReader r(json, "c.json");
  EXPECT_EQ(r.optional_string("act"), "silu");
  EXPECT_EQ(r.optional_string("empty"), "");
  EXPECT_EQ(r.optional_string("absent"), std::nullopt);
  expect_config_error([&] { r.optional_string("num"); }, "c.json", "num", "string");
}

TEST(JsonReaderTest, IntOrIntList) {
  const auto json = parse(R"({"one": 2, "list": [128001, 128008, 128009], "empty": [], "null": null,
                              "text": "2", "mixed": [1, "2"], "floats": [1.5], "nested": [[1]],
                              "over": 18446744073709551615, "list_over": [2, 18446744073709551615]})");
  const JsonReader r(json, "c.json");
  EXPECT_EQ(r.int_or_int_list("one"), (std::vector<int64_t>{2}));
  EXPECT_EQ(r.int_or_int_list("list"), (std::vector<int64_t>{128001, 128008, 128009}));
  EXPECT_TRUE(r.int_or_int_list("empty").empty());
  EXPECT_TRUE(r.int_or_int_list("null").empty());
  EXPECT_TRUE(r.int_or_int_list("absent").empty());
  for (const char* key : {"text", "mixed", "floats", "nested"}) {
    expect_config_error([&] { r.int_or_int_list(key); }, "c.json", key, "list of integers");
  }
  for (const char* key : {"over", "list_over"}) {
    expect_config_error([&] { r.int_or_int_list(key); }, "c.json", key, "18446744073709551615");
  }
}

TEST(JsonReaderTest, NestedObjectsCarryTheirKeyPath) {
  const auto json = parse(R"({"rope_scaling": {"factor": -1, "inner": {"x": "y"}}, "null": null, "num": 3})");
  const JsonReader r(json, "config.json");
  EXPECT_EQ(r.optional_object("absent"), std::nullopt);
  EXPECT_EQ(r.optional_object("null"), std::nullopt);
  expect_config_error([&] { r.optional_object("num"); }, "config.json", "num", "object");

  const auto rs = r.optional_object("rope_scaling");
  ASSERT_TRUE(rs);
  EXPECT_EQ(rs->file(), "config.json");
  EXPECT_EQ(rs->key_path("factor"), "rope_scaling.factor");
  expect_config_error([&] { rs->positive_number("factor"); }, "config.json", "rope_scaling.factor", "-1");
  const auto inner = rs->optional_object("inner");
  ASSERT_TRUE(inner);
  expect_config_error([&] { inner->optional_int("x"); }, "config.json", "rope_scaling.inner.x", "integer");
}

TEST(JsonReaderTest, KeyPathAndFile) {
  const auto json = parse("{}");
  const JsonReader top(json, "a/config.json");
  EXPECT_EQ(top.file(), "a/config.json");
  EXPECT_EQ(top.key_path("vocab_size"), "vocab_size");
  const JsonReader nested(json, "a/config.json", "outer.");
  EXPECT_EQ(nested.key_path("k"), "outer.k");
}

TEST(JsonReaderTest, ReadJsonFile) {
  const test::TempDir dir;
  test::write_file(dir.file("ok.json"), R"({"a": [1, 2], "b": "x"})");
  const auto json = read_json_file(dir.file("ok.json"));
  EXPECT_EQ(json["a"][1], 2);
  EXPECT_EQ(json["b"], "x");

  const auto missing = thrown<IoError>([&] { read_json_file(dir.file("none.json")); });
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->context().file, dir.file("none.json"));

  test::write_file(dir.file("bad.json"), "{\"a\": 1,\n \"b\": }");
  const auto bad = thrown<ConfigError>([&] { read_json_file(dir.file("bad.json")); });
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->context().file, dir.file("bad.json"));
  EXPECT_CONTAINS(bad->what(), "not valid JSON");
  ASSERT_TRUE(bad->context().offset);
  // The '}' where a value should be is character 15 (0-based) of the text.
  EXPECT_GE(*bad->context().offset, 15u);
  EXPECT_LE(*bad->context().offset, 16u);

  test::write_file(dir.file("empty.json"), "");
  EXPECT_CONTAINS(message_of<ConfigError>([&] { read_json_file(dir.file("empty.json")); }), "not valid JSON");

  // A number too large for a double is not a syntax error (nlohmann throws
  // out_of_range): still a ConfigError, with no byte offset.
  test::write_file(dir.file("huge.json"), R"({"rope_theta": 1e999})");
  const auto huge = thrown<ConfigError>([&] { read_json_file(dir.file("huge.json")); });
  ASSERT_TRUE(huge);
  EXPECT_CONTAINS(huge->what(), "number overflow");
  EXPECT_FALSE(huge->context().offset);
}

}  // namespace
}  // namespace llmbatch
