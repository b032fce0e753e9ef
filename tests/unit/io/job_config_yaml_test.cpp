// The YAML plumbing under the job config: scalar typing per the YAML 1.2
// core schema (the examples of its section 10.3.2), YAML -> JSON, numbers
// and strings written so they read back the same, and error locations.
#include "io/job_config_yaml.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "job_config_test_util.h"

namespace llmbatch {
namespace {

TEST(JobConfigYamlTest, PlainScalarsFollowTheCoreSchema) {
  for (const char* s : {"", "~", "null", "Null", "NULL"}) {
    EXPECT_EQ(plain_scalar_type(s), ScalarType::kNull) << s;
  }
  for (const char* s : {"true", "True", "TRUE", "false", "False", "FALSE"}) {
    EXPECT_EQ(plain_scalar_type(s), ScalarType::kBool) << s;
  }
  for (const char* s : {"0", "-19", "+12", "0o14", "0x3A", "0xC"}) {
    EXPECT_EQ(plain_scalar_type(s), ScalarType::kInt) << s;
  }
  for (const char* s : {"1.", "-1.5", "+12e03", "1e-5", ".5", "-.inf", ".Inf", ".NaN", "2.5E+3"}) {
    EXPECT_EQ(plain_scalar_type(s), ScalarType::kFloat) << s;
  }
  for (const char* s : {"yes", "no", "on", "nULL", "tRUE", "0b101", "1_000", "1e", ".", "-",
                        "e5", "1.2.3", "0x", "0o9", "4GiB", "auto", "12abc", "+.nan"}) {
    EXPECT_EQ(plain_scalar_type(s), ScalarType::kString) << s;
  }
}

TEST(JobConfigYamlTest, QuotedScalarsAreStrings) {
  const YAML::Node node = YAML::Load("[\"42\", '~', !!str true, 42, ~, plain]");
  EXPECT_EQ(scalar_type(node[0]), ScalarType::kString);
  EXPECT_EQ(scalar_type(node[1]), ScalarType::kString);
  EXPECT_EQ(scalar_type(node[2]), ScalarType::kString);
  EXPECT_EQ(scalar_type(node[3]), ScalarType::kInt);
  EXPECT_EQ(scalar_type(node[4]), ScalarType::kNull);
  EXPECT_EQ(scalar_type(node[5]), ScalarType::kString);
}

TEST(JobConfigYamlTest, YamlToJsonTypesEveryScalar) {
  const YAML::Node node = YAML::Load(
      "{a: 1, b: -2, c: 0x10, d: 2.5, e: true, f: ~, g: '3', h: [x, 1], i: {j: null},"
      " k: 18446744073709551615, l: -9223372036854775808, m: 99999999999999999999}");
  const nlohmann::json json = yaml_to_json(node, "s", {});
  EXPECT_EQ(json, nlohmann::json::parse(R"({"a": 1, "b": -2, "c": 16, "d": 2.5, "e": true,
      "f": null, "g": "3", "h": ["x", 1], "i": {"j": null}, "k": 18446744073709551615,
      "l": -9223372036854775808, "m": 1e20})"));
  EXPECT_TRUE(json["k"].is_number_unsigned());
  EXPECT_TRUE(json["m"].is_number_float());
  const nlohmann::json inf = yaml_to_json(YAML::Load("[.inf, -.inf, .nan]"), "s", {});
  EXPECT_EQ(inf[0].get<double>(), INFINITY);
  EXPECT_EQ(inf[1].get<double>(), -INFINITY);
  EXPECT_TRUE(std::isnan(inf[2].get<double>()));
}

TEST(JobConfigYamlTest, YamlToJsonRefusesDuplicateKeys) {
  try {
    yaml_to_json(YAML::Load("{a: {b: 1, b: 2}}"), "sampling", {.file = "job.yaml"});
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.context().key, "sampling.a.b");
    EXPECT_EQ(e.description(), "sampling.a.b: duplicate key (line 1, column 12)");
  }
}

TEST(JobConfigYamlTest, DoublesReadBackExactly) {
  EXPECT_EQ(format_double(60.0), "60.0");
  EXPECT_EQ(format_double(0.9), "0.9");
  EXPECT_EQ(format_double(-0.5), "-0.5");
  EXPECT_EQ(format_double(1e-5), "1e-05");
  EXPECT_EQ(format_double(INFINITY), ".inf");
  EXPECT_EQ(format_double(-INFINITY), "-.inf");
  EXPECT_EQ(format_double(NAN), ".nan");
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> exponent(-30.0, 30.0);
  for (int i = 0; i < 1000; ++i) {
    const double v = std::pow(10.0, exponent(rng)) * (i % 2 ? -1.0 : 1.0);
    const std::string text = format_double(v);
    EXPECT_EQ(plain_scalar_type(text), ScalarType::kFloat) << text;
    EXPECT_EQ(std::strtod(text.c_str(), nullptr), v) << text;
  }
}

TEST(JobConfigYamlTest, StringsReadBackAsStrings) {
  for (const std::string s : {"true", "~", "", "12", "1e5", "plain", "a: b", "- x", "#c", "[x]",
                              "two\nlines", " lead", "trail ", "'q'", "\"dq\"", "üñí", "*star"}) {
    YAML::Emitter out;
    out << YAML::Flow << YAML::BeginSeq;
    emit_string(out, s);
    out << YAML::EndSeq;
    const YAML::Node back = YAML::Load(out.c_str());
    EXPECT_EQ(scalar_type(back[0]), ScalarType::kString) << out.c_str();
    EXPECT_EQ(back[0].Scalar(), s) << out.c_str();
  }
}

TEST(JobConfigYamlTest, JsonWrittenAsYamlConvertsBack) {
  const nlohmann::json json = nlohmann::json::parse(R"({"t": 0.7, "n": 3, "big": 18446744073709551615,
      "neg": -4, "on": true, "none": null, "stop": ["\n\n", "42", "null"],
      "bias": [[13, 2.5], [7, -100.0]], "nested": {"k": "v"}, "one": 1.0})");
  YAML::Emitter out;
  emit_json(out, json);
  EXPECT_EQ(yaml_to_json(YAML::Load(out.c_str()), "s", {}), json) << out.c_str();
}

TEST(JobConfigYamlTest, LocationsAndRethrow) {
  YAML::Mark mark;
  mark.line = 2;
  mark.column = 4;
  EXPECT_EQ(site_location({.file = "j.yaml"}, mark), " (line 3, column 5)");
  EXPECT_EQ(site_location({.file = "j.yaml"}, YAML::Mark::null_mark()), "");
  EXPECT_EQ(site_location({.set_arg = "a.b=1"}, mark), " (from --set a.b=1)");

  const ConfigError made = config_error_at("a.b", "bad", {.file = "j.yaml"}, mark, "fix it");
  EXPECT_EQ(made.description(), "a.b: bad (line 3, column 5)");
  EXPECT_EQ(made.context().key, "a.b");
  EXPECT_EQ(made.context().file, "j.yaml");

  try {
    rethrow_at(ConfigError("expected x", {}, "try y"), "engine.k", {.file = "j.yaml"}, mark);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.description(), "engine.k: expected x (line 3, column 5)");
    EXPECT_EQ(e.context().key, "engine.k");
    EXPECT_TRUE(std::string(e.what()).ends_with(". try y")) << e.what();
  }
  // An error that names its own key keeps it and is not prefixed twice.
  try {
    rethrow_at(ConfigError("sampling.top_p must be in (0, 1]", {.key = "sampling.top_p"}),
               "sampling", {.set_arg = "sampling={top_p: 2}"}, mark);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.description(), "sampling.top_p must be in (0, 1] (from --set sampling={top_p: 2})");
    EXPECT_EQ(e.context().key, "sampling.top_p");
  }
}

TEST(JobConfigYamlTest, DescribeNode) {
  const YAML::Node node = YAML::Load("[24, 2.5, abc, '7', [1], {a: 1}, ~]");
  EXPECT_EQ(describe_node(node[0]), "24");
  EXPECT_EQ(describe_node(node[1]), "2.5");
  EXPECT_EQ(describe_node(node[2]), "'abc'");
  EXPECT_EQ(describe_node(node[3]), "'7'");
  EXPECT_EQ(describe_node(node[4]), "a sequence");
  EXPECT_EQ(describe_node(node[5]), "a mapping");
  EXPECT_EQ(describe_node(node[6]), "null");
}

}  // namespace
}  // namespace llmbatch
