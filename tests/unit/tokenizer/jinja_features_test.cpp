// One Jinja feature per case (whitespace control, operators, filters, tests,
// loops, macros, errors...), each rendered by transformers' own compiled Jinja
// environment into tests/fixtures/chat_templates/jinja_cases.json.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "tokenizer/chat_template.h"

namespace llmbatch {
namespace {

using Json = nlohmann::ordered_json;

const Json& fixture() {
  static const Json json = [] {
    std::ifstream in(std::filesystem::path(LLMBATCH_FIXTURES_DIR) / "chat_templates" / "jinja_cases.json");
    if (!in) throw std::runtime_error("missing fixture jinja_cases.json");
    return Json::parse(in);
  }();
  return json;
}

// The generator pinned strftime_now to this local time (Friday, day 208).
std::tm fixed_now() {
  std::tm t{};
  t.tm_year = 2024 - 1900;
  t.tm_mon = 6;
  t.tm_mday = 26;
  t.tm_hour = 14;
  t.tm_min = 5;
  t.tm_sec = 9;
  t.tm_wday = 5;
  t.tm_yday = 207;
  return t;
}

struct FeatureCase {
  size_t index;
  std::string name;
};

std::vector<FeatureCase> feature_cases() {
  std::vector<FeatureCase> cases;
  const Json& all = fixture()["cases"];
  for (size_t i = 0; i < all.size(); ++i) cases.push_back({i, all[i]["name"].get<std::string>()});
  return cases;
}

class JinjaFeatureTest : public testing::TestWithParam<FeatureCase> {};

TEST_P(JinjaFeatureTest, MatchesTransformersJinja) {
  const Json& c = fixture()["cases"][GetParam().index];
  const ChatTemplate t = ChatTemplate::parse(c["template"].get<std::string>(), GetParam().name);
  if (c.contains("expected")) {
    EXPECT_EQ(t.render(fixture()["context"], fixed_now()), c["expected"].get<std::string>());
    return;
  }
  const Json& error = c["error"];
  try {
    const std::string rendered = t.render(fixture()["context"], fixed_now());
    FAIL() << "expected " << error.dump() << ", rendered: " << rendered;
  } catch (const InputError& e) {
    if (error["source"] == "raise_exception") {
      EXPECT_EQ(e.description(), error["message"].get<std::string>());
    } else {
      // Same exception class; Jinja's own classes (TemplateRuntimeError,
      // SecurityError) are named by what they say rather than their name.
      const std::string type = error["type"].get<std::string>();
      if (type != "TemplateRuntimeError") {
        EXPECT_NE(e.description().find(type), std::string::npos) << e.what() << " vs " << error.dump();
      }
      EXPECT_NE(e.description().find("line 1, column "), std::string::npos) << e.what();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, JinjaFeatureTest, testing::ValuesIn(feature_cases()),
                         [](const testing::TestParamInfo<FeatureCase>& info) { return info.param.name; });

TEST(JinjaFeatureErrorsTest, RuntimeErrorsPointAtTheFailingExpression) {
  const ChatTemplate t = ChatTemplate::parse("line one\n{% for m in messages %}\n  {{ m.content.strip() }}{% endfor %}");
  try {
    t.render(Json::parse(R"({"messages": [{"content": " ok "}, {"role": "user"}]})"));
    FAIL();
  } catch (const InputError& e) {
    // The failing node is the attribute access `.strip` at line 3, column 15.
    EXPECT_NE(e.description().find("line 3, column 15"), std::string::npos) << e.what();
    EXPECT_NE(e.description().find("'dict object' has no attribute 'content'"), std::string::npos) << e.what();
  }
}

// An attribute of digits is an index (Jinja's make_attrgetter); one too
// large for int64 indexes nothing, as in Jinja, and must not throw past
// the template's errors.
TEST(JinjaFeatureErrorsTest, HugeDigitAttributeIndexesNothing) {
  const ChatTemplate t = ChatTemplate::parse(
      "{{ (xs | map(attribute='1') | list)[0] }}|{{ xs | map(attribute='99999999999999999999') | list | length }}");
  EXPECT_EQ(t.render(Json::parse(R"({"xs": [[7, 8], [9]]})")), "8|2");
}

TEST(JinjaFeatureErrorsTest, UnsupportedMethodsAreRefusedAtRunTime) {
  const ChatTemplate t = ChatTemplate::parse("{{ 'a{}'.format(1) }}");
  EXPECT_THROW(t.render(Json::object()), UnsupportedError);
  EXPECT_THROW(ChatTemplate::parse("{{ '%s' % 1 }}").render(Json::object()), UnsupportedError);
  EXPECT_THROW(ChatTemplate::parse("{{ cycler(1, 2) }}").render(Json::object()), UnsupportedError);
}

TEST(JinjaFeatureErrorsTest, DeepMacroRecursionIsAnErrorNotACrash) {
  const ChatTemplate t = ChatTemplate::parse("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  EXPECT_THROW(t.render(Json::object()), InputError);
}

TEST(JinjaFeatureErrorsTest, HugeRepetitionIsRefused) {
  EXPECT_THROW(ChatTemplate::parse("{{ 'ab' * 1000000000000 }}").render(Json::object()), InputError);
}

}  // namespace
}  // namespace llmbatch
