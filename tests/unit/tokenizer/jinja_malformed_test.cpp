// Templates that must be refused with line and column: invalid Jinja (Jinja
// refuses them too, and reports the same line: checked when the fixture was
// generated) and valid Jinja llmbatch does not implement. None may crash.
#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "core/error.h"
#include "tokenizer/chat_template.h"

namespace llmbatch {
namespace {

using Json = nlohmann::ordered_json;

const Json& fixture() {
  static const Json json = [] {
    std::ifstream in(std::filesystem::path(LLMBATCH_FIXTURES_DIR) / "chat_templates" / "malformed_templates.json");
    if (!in) throw std::runtime_error("missing fixture malformed_templates.json");
    return Json::parse(in);
  }();
  return json;
}

struct MalformedCase {
  size_t index;
  std::string name;
};

std::vector<MalformedCase> malformed_cases() {
  std::vector<MalformedCase> cases;
  const Json& all = fixture()["cases"];
  for (size_t i = 0; i < all.size(); ++i) cases.push_back({i, all[i]["name"].get<std::string>()});
  return cases;
}

class JinjaMalformedTest : public testing::TestWithParam<MalformedCase> {};

TEST_P(JinjaMalformedTest, RefusedWithLineAndColumn) {
  const Json& c = fixture()["cases"][GetParam().index];
  const std::string where = "line " + std::to_string(c["line"].get<int>()) + ", column " +
                            std::to_string(c["column"].get<int>());
  try {
    ChatTemplate::parse(c["template"].get<std::string>(), "bad.jinja");
    FAIL() << "parsed: " << c["template"];
  } catch (const ConfigError& e) {
    EXPECT_EQ(c["kind"], "syntax") << e.what();
    EXPECT_NE(std::string(e.what()).find(where), std::string::npos) << e.what() << " expected " << where;
    EXPECT_EQ(e.context().file, "bad.jinja");
  } catch (const UnsupportedError& e) {
    EXPECT_EQ(c["kind"], "unsupported") << e.what();
    EXPECT_NE(std::string(e.what()).find(where), std::string::npos) << e.what() << " expected " << where;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, JinjaMalformedTest, testing::ValuesIn(malformed_cases()),
                         [](const testing::TestParamInfo<MalformedCase>& info) { return info.param.name; });

TEST(JinjaMalformedExtraTest, DeepNestingIsRefusedNotACrash) {
  const std::string parens = "{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}";
  EXPECT_THROW(ChatTemplate::parse(parens), ConfigError);
  std::string ifs;
  for (int i = 0; i < 5000; ++i) ifs += "{% if true %}";
  EXPECT_THROW(ChatTemplate::parse(ifs), ConfigError);
  std::string nots = "{{ ";
  for (int i = 0; i < 100000; ++i) nots += "not ";
  EXPECT_THROW(ChatTemplate::parse(nots + "x }}"), ConfigError);
}

// Cuts of a real template at every byte, and random byte soup: each parses
// or is refused with an llmbatch::Error, never anything else.
TEST(JinjaMalformedExtraTest, TruncationsAndGarbageNeverCrash) {
  std::ifstream in(std::filesystem::path(LLMBATCH_FIXTURES_DIR) / "chat_templates" / "templates" /
                   "mistral_instruct_v3.jinja");
  const std::string real{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  ASSERT_FALSE(real.empty());
  const Json vars = Json::parse(R"({"messages": [{"role": "user", "content": "x"}], "bos_token": "<s>"})");
  auto attempt = [&](const std::string& source) {
    try {
      ChatTemplate::parse(source).render(vars);
    } catch (const Error&) {
    }
  };
  for (size_t cut = 0; cut <= real.size(); ++cut) attempt(real.substr(0, cut));
  std::mt19937 rng(1234);
  const std::string alphabet = "{}%#-+()[]'\" \n\tabcifnotrsex.|~=!<>*/0123456789\\";
  for (int round = 0; round < 3000; ++round) {
    std::string soup;
    const size_t length = rng() % 40;
    for (size_t i = 0; i < length; ++i) soup += alphabet[rng() % alphabet.size()];
    attempt(soup);
  }
}

}  // namespace
}  // namespace llmbatch
