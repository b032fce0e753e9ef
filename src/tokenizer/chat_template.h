// A chat template: a model's Jinja `chat_template`, parsed once and
// rendered per conversation, byte for byte as transformers renders it.
//
//   auto t = ChatTemplate::parse(source, "model/tokenizer_config.json");
//   std::string prompt = t.render({{"messages", msgs}, {"add_generation_prompt", true},
//                                  {"bos_token", "<s>"}});
//
// render() is the bare template: the caller supplies every variable. For
// what apply_chat_template does around it (special tokens, tools=None,
// dropping null message fields) see chat_template_config.h.
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace llmbatch {

class ChatTemplate {
 public:
  // Throws ConfigError for invalid Jinja and UnsupportedError for Jinja
  // llmbatch does not implement, with line and column. `origin` (a path)
  // names the template in errors.
  static ChatTemplate parse(std::string source, std::string origin = {});

  // Renders with `variables` (a JSON object; ordered, so dicts keep the
  // input's key order as in Python) as the template's context. `now` fixes
  // what strftime_now() sees (default: the local time). Throws InputError
  // for what Jinja raises at render time, including raise_exception('msg'),
  // whose description() is exactly 'msg'.
  std::string render(const nlohmann::ordered_json& variables,
                     const std::optional<std::tm>& now = std::nullopt) const;

  // A parsed template is immutable: copies share it, and render() may run
  // on many threads at once.

  // The template text after Jinja's newline normalization.
  const std::string& source() const;

 private:
  struct Parsed;
  explicit ChatTemplate(std::shared_ptr<const Parsed> parsed) : parsed_(std::move(parsed)) {}
  std::shared_ptr<const Parsed> parsed_;
};

}  // namespace llmbatch
