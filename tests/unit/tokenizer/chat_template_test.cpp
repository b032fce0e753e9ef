// Real chat templates (Llama-3.1, Qwen2.5, Llama-2-chat, Mistral-Instruct
// v0.3, SmolLM2) x conversations, against transformers' apply_chat_template
// (tests/fixtures/chat_templates/expected_renderings.json, written by
// tools/make-chat-template-fixtures.sh). Also the model-directory loader.
#include "tokenizer/chat_template.h"
#include "tokenizer/chat_template_config.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "core/error.h"

namespace llmbatch {
namespace {

using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

const fs::path kDir = fs::path(LLMBATCH_FIXTURES_DIR) / "chat_templates";

Json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("missing fixture " + path.string());
  return Json::parse(in);
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const Json& expectations() {
  static const Json json = read_json(kDir / "expected_renderings.json");
  return json;
}

// The template under test, as a user would get it: model directories through
// load_chat_template, bare .jinja files with the special tokens transformers had.
const ModelChatTemplate& model_template(const std::string& name) {
  static std::map<std::string, ModelChatTemplate> cache;
  if (auto it = cache.find(name); it != cache.end()) return it->second;
  const Json& info = expectations()["templates"][name];
  const fs::path path = kDir / info["path"].get<std::string>();
  ModelChatTemplate model = path.extension() == ".jinja"
                                ? ModelChatTemplate{ChatTemplate::parse(read_text(path), path.string()),
                                                    std::nullopt, info["special_tokens"]}
                                : load_chat_template(path);
  return cache.emplace(name, std::move(model)).first->second;
}

struct RenderCase {
  size_t index;
  std::string label;
};

std::vector<RenderCase> render_cases() {
  std::vector<RenderCase> cases;
  const Json& all = expectations()["cases"];
  for (size_t i = 0; i < all.size(); ++i) {
    std::string label = all[i]["template"].get<std::string>() + "_" + all[i]["name"].get<std::string>() +
                        (all[i]["add_generation_prompt"].get<bool>() ? "_gen" : "");
    cases.push_back({i, label});
  }
  return cases;
}

class RealTemplateTest : public testing::TestWithParam<RenderCase> {};

TEST_P(RealTemplateTest, RendersLikeTransformers) {
  const Json& c = expectations()["cases"][GetParam().index];
  const ModelChatTemplate& model = model_template(c["template"].get<std::string>());
  ChatRenderOptions options{.add_generation_prompt = c["add_generation_prompt"].get<bool>()};
  if (c.contains("tools")) options.tools = c["tools"];
  if (c.contains("expected")) {
    EXPECT_EQ(apply_chat_template(model, c["messages"], options), c["expected"].get<std::string>());
    return;
  }
  const Json& error = c["error"];
  try {
    const std::string rendered = apply_chat_template(model, c["messages"], options);
    FAIL() << "expected " << error.dump() << ", rendered: " << rendered;
  } catch (const InputError& e) {
    const std::string source = error["source"].get<std::string>();
    const std::string message = error["message"].get<std::string>();
    if (source == "template") {
      // Not raise_exception: the same Python exception, located in the template.
      EXPECT_NE(e.description().find(error["type"].get<std::string>() + ": " + message), std::string::npos)
          << e.what();
      EXPECT_NE(e.description().find("line "), std::string::npos) << e.what();
    } else {
      EXPECT_EQ(e.description(), message);  // raise_exception's text, or transformers' own check
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, RealTemplateTest, testing::ValuesIn(render_cases()),
                         [](const testing::TestParamInfo<RenderCase>& info) { return info.param.label; });

TEST(ChatTemplateTest, FixturesCoverFiveTemplatesWithManyConversations) {
  std::map<std::string, int> rendered;
  for (const Json& c : expectations()["cases"]) rendered[c["template"].get<std::string>()] += c.contains("expected");
  EXPECT_EQ(rendered.size(), 5u);
  for (const auto& [name, count] : rendered) EXPECT_GE(count, 10) << name;
}

TEST(ChatTemplateTest, LoadReadsSpecialTokensLikeTransformers) {
  for (const char* name : {"llama3_1", "qwen2_5"}) {
    EXPECT_EQ(model_template(name).special_tokens, expectations()["templates"][name]["special_tokens"]) << name;
    EXPECT_FALSE(model_template(name).tool_use.has_value());
  }
}

TEST(ChatTemplateTest, SpecialTokensAcceptAddedTokenObjects) {
  const Json config = Json::parse(R"({"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>",
                                      "unk_token": null, "pad_token": "<pad>", "model_max_length": 4})");
  EXPECT_EQ(chat_special_tokens(config), Json::parse(R"({"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>"})"));
  EXPECT_THROW(chat_special_tokens(Json::parse(R"({"bos_token": 3})")), ModelFormatError);
}

class ModelDirTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("llmbatch_chat_" + std::to_string(::getpid()) + "_" +
                                        testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }

  fs::path dir_;
};

TEST_F(ModelDirTest, NamedTemplatesPickToolUseWhenToolsAreGiven) {
  write("tokenizer_config.json", R"({"eos_token": "E", "chat_template": [
      {"name": "default", "template": "D{{ eos_token }}{{ tools is none }}"},
      {"name": "tool_use", "template": "T{{ tools | length }}"}]})");
  const ModelChatTemplate model = load_chat_template(dir_);
  const Json messages = Json::parse(R"([{"role": "user", "content": "hi"}])");
  EXPECT_EQ(apply_chat_template(model, messages), "DETrue");
  EXPECT_EQ(apply_chat_template(model, messages, {.tools = Json::parse("[{}, {}]")}), "T2");
}

TEST_F(ModelDirTest, ChatTemplateJinjaFileWins) {
  write("tokenizer_config.json", R"({"chat_template": "from config"})");
  write("chat_template.jinja", "from file {{ messages | length }}\n");
  EXPECT_EQ(apply_chat_template(load_chat_template(dir_), Json::parse(R"([{"role": "user", "content": ""}])")),
            "from file 1");
}

TEST_F(ModelDirTest, ReadTokenizerConfigWantsAJsonObject) {
  const std::filesystem::path path = dir_ / "tokenizer_config.json";
  EXPECT_THROW(read_tokenizer_config(path), IoError);
  write("tokenizer_config.json", R"({"bos_token": "<s>"})");
  EXPECT_EQ(read_tokenizer_config(path)["bos_token"], "<s>");
  write("tokenizer_config.json", "[1, 2]");
  EXPECT_THROW(read_tokenizer_config(path), ModelFormatError);
  write("tokenizer_config.json", R"({"bos_token": })");
  try {
    read_tokenizer_config(path);
    FAIL() << "a syntax error was read";
  } catch (const ModelFormatError& e) {
    EXPECT_EQ(e.context().file, path.string());
    EXPECT_EQ(e.context().offset, std::optional<uint64_t>(15));  // the '}' (nlohmann counts from 1)
  }
  write("tokenizer_config.json", R"({"model_max_length": 1e999})");  // out_of_range, not a syntax error
  EXPECT_THROW(read_tokenizer_config(path), ModelFormatError);
}

TEST_F(ModelDirTest, MissingOrBrokenTemplatesAreClearErrors) {
  EXPECT_THROW(load_chat_template(dir_), IoError);
  write("tokenizer_config.json", "{not json");
  EXPECT_THROW(load_chat_template(dir_), ModelFormatError);
  write("tokenizer_config.json", R"({"model_max_length": 1e999})");  // out_of_range, not a syntax error
  EXPECT_THROW(load_chat_template(dir_), ModelFormatError);
  write("tokenizer_config.json", R"({"bos_token": "<s>"})");
  EXPECT_THROW(load_chat_template(dir_), ConfigError);
  write("tokenizer_config.json", R"({"chat_template": [{"name": "other", "template": "x"}]})");
  EXPECT_THROW(load_chat_template(dir_), ConfigError);
  write("tokenizer_config.json", R"({"chat_template": 5})");
  EXPECT_THROW(load_chat_template(dir_), ModelFormatError);
  write("tokenizer_config.json", R"({"chat_template": "{% if %}"})");
  try {
    load_chat_template(dir_);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.context().file, (dir_ / "tokenizer_config.json").string());
    EXPECT_NE(std::string(e.what()).find("line 1, column 7"), std::string::npos) << e.what();
  }
}

TEST(ApplyChatTemplateTest, ValidatesTheConversationAndPassesVariables) {
  const ModelChatTemplate model{ChatTemplate::parse("{{ bos_token }}{{ x }}{{ strftime_now('%Y') }}"), std::nullopt,
                                Json::parse(R"({"bos_token": "B"})")};
  const Json one = Json::parse(R"([{"role": "user", "content": "hi"}])");
  EXPECT_THROW(apply_chat_template(model, Json::parse("[]")), InputError);
  EXPECT_THROW(apply_chat_template(model, Json::parse(R"({"role": "user"})")), InputError);
  EXPECT_THROW(apply_chat_template(model, Json::parse(R"(["hi"])")), InputError);
  EXPECT_THROW(apply_chat_template(model, one, {.tools = Json::parse("{}")}), InputError);
  std::tm now{};
  now.tm_year = 2031 - 1900;
  EXPECT_EQ(apply_chat_template(model, one, {.variables = Json::parse(R"({"bos_token": "b", "x": 1})"), .now = now}),
            "b12031");
}

TEST(ChatTemplateRenderTest, RenderTakesExactlyTheGivenVariables) {
  const ChatTemplate t = ChatTemplate::parse("{{ messages is defined }}|{{ a.b[1] }}\r\n", "t.jinja");
  EXPECT_EQ(t.render(Json::parse(R"({"a": {"b": [1, "two"]}})")), "False|two");
  EXPECT_EQ(t.source(), "{{ messages is defined }}|{{ a.b[1] }}");  // newlines normalized, last one dropped
  EXPECT_THROW(t.render(Json::array()), InputError);
  EXPECT_THROW(t.render(Json::parse(R"({"a": 18446744073709551615})")), UnsupportedError);
  try {
    ChatTemplate::parse("{{ raise_exception('bad ' ~ x) }}", "t.jinja").render(Json::parse(R"({"x": 1})"));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.description(), "bad 1");
    EXPECT_EQ(e.context().file, "t.jinja");
  }
}

TEST(ChatTemplateRenderTest, ConcurrentRendersOfOneTemplateAgree) {
  const ModelChatTemplate& model = model_template("qwen2_5");
  const Json messages = Json::parse(R"([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}])");
  const std::string expected = apply_chat_template(model, messages);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (size_t t = 0; t < mismatches.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) mismatches[t] += apply_chat_template(model, messages) != expected;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace llmbatch
