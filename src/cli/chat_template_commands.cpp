// `llmbatch chat-template DIR --messages FILE.json [--add-generation-prompt]`:
// prints the prompt a model's chat template makes of a conversation, exactly
// as transformers' apply_chat_template(tokenize=False) would (no newline added).
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "cli/command.h"
#include "core/error.h"
#include "tokenizer/chat_template_config.h"

namespace llmbatch::cli {
namespace {

struct ChatTemplateArgs {
  std::string dir;
  std::string messages_file;
  bool add_generation_prompt = false;
  std::string now;
};

nlohmann::ordered_json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open " + path + ": " + errno_text(errno), {.file = path});
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::ordered_json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("not valid JSON: ") + e.what(), {.file = path});
  }
}

std::tm parse_now(const std::string& text) {
  std::tm t{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &t);
  if (end == nullptr || *end != '\0') {
    throw ConfigError("cannot read '" + text + "' as a time", {.key = "--now"}, "use YYYY-MM-DDTHH:MM:SS");
  }
  // Let mktime fill in the weekday and day of the year that %a, %j print.
  t.tm_isdst = -1;
  std::tm normalized = t;
  if (mktime(&normalized) == -1) throw ConfigError("time out of range: " + text, {.key = "--now"});
  return normalized;
}

int run_chat_template(const ChatTemplateArgs& a) {
  const ModelChatTemplate model = load_chat_template(a.dir);
  // The file holds the messages array, or an object with "messages" (and "tools").
  const nlohmann::ordered_json input = read_json_file(a.messages_file);
  ChatRenderOptions options{.add_generation_prompt = a.add_generation_prompt};
  nlohmann::ordered_json messages = input;
  if (input.is_object()) {
    if (!input.contains("messages")) {
      throw InputError("expected a messages array or an object with \"messages\"", {.file = a.messages_file});
    }
    messages = input["messages"];
    if (input.contains("tools")) options.tools = input["tools"];
  }
  if (!a.now.empty()) options.now = parse_now(a.now);
  const std::string prompt = apply_chat_template(model, messages, options);
  std::fwrite(prompt.data(), 1, prompt.size(), stdout);
  return 0;
}

}  // namespace

void add_chat_template_commands(CLI::App& app, CommandAction& action) {
  auto* cmd = app.add_subcommand("chat-template", "render a model's chat template for a conversation");
  auto args = std::make_shared<ChatTemplateArgs>();
  cmd->add_option("dir", args->dir, "model directory with tokenizer_config.json")->required();
  cmd->add_option("--messages", args->messages_file,
                  "JSON file: [{\"role\": ..., \"content\": ...}, ...] or {\"messages\": [...], \"tools\": [...]}")
      ->required();
  cmd->add_flag("--add-generation-prompt", args->add_generation_prompt, "end with the assistant turn's header");
  cmd->add_option("--now", args->now, "what strftime_now() sees, YYYY-MM-DDTHH:MM:SS (default: the local time)");
  cmd->callback([args, &action] { action = [args] { return run_chat_template(*args); }; });
}

}  // namespace llmbatch::cli
