#include "tokenizer/chat_template_config.h"

#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/json_error.h"

namespace llmbatch {
namespace {

// transformers' SPECIAL_TOKENS_ATTRIBUTES, in its order.
constexpr const char* kSpecialTokens[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                          "pad_token", "cls_token", "mask_token"};
// Names a message's reasoning may come under; the first is the one templates read.
constexpr const char* kReasoningFields[] = {"reasoning_content", "thinking", "reasoning"};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open " + path.string() + ": " + errno_text(errno), {.file = path.string()});
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

nlohmann::ordered_json normalize_message(const nlohmann::ordered_json& message) {
  nlohmann::ordered_json kept = nlohmann::ordered_json::object();
  for (const auto& [key, value] : message.items()) {
    if (!value.is_null()) kept[key] = value;
  }
  for (const char* field : kReasoningFields) {
    if (!kept.contains(field)) continue;
    // Python's {"thinking": r, **message, "reasoning_content": r}.
    const nlohmann::ordered_json reasoning = kept[field];
    nlohmann::ordered_json aliased = nlohmann::ordered_json::object();
    aliased["thinking"] = reasoning;
    for (const auto& [key, value] : kept.items()) aliased[key] = value;
    aliased["reasoning_content"] = reasoning;
    return aliased;
  }
  return kept;
}

}  // namespace

nlohmann::ordered_json chat_special_tokens(const nlohmann::ordered_json& tokenizer_config, const std::string& origin) {
  nlohmann::ordered_json tokens = nlohmann::ordered_json::object();
  for (const char* name : kSpecialTokens) {
    if (!tokenizer_config.contains(name)) continue;
    const auto& token = tokenizer_config[name];
    if (token.is_string()) {
      tokens[name] = token;
    } else if (token.is_object() && token.contains("content") && token["content"].is_string()) {
      tokens[name] = token["content"];
    } else if (!token.is_null()) {
      throw ModelFormatError(std::string(name) + " must be a string, an AddedToken object or null",
                             {.file = origin, .key = name});
    }
  }
  return tokens;
}

nlohmann::ordered_json read_tokenizer_config(const std::filesystem::path& path) {
  const std::string origin = path.string();
  nlohmann::ordered_json config;
  try {
    config = nlohmann::ordered_json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw ModelFormatError(std::string("tokenizer_config.json is not valid JSON: ") + e.what(),
                           {.file = origin, .offset = json_error_byte(e)});
  }
  if (!config.is_object()) throw ModelFormatError("tokenizer_config.json must hold a JSON object", {.file = origin});
  return config;
}

ModelChatTemplate load_chat_template(const std::filesystem::path& model_dir) {
  const std::filesystem::path config_path = model_dir / "tokenizer_config.json";
  const std::string origin = config_path.string();
  const nlohmann::ordered_json config = read_tokenizer_config(config_path);
  nlohmann::ordered_json special_tokens = chat_special_tokens(config, origin);

  const std::filesystem::path jinja_path = model_dir / "chat_template.jinja";
  if (std::filesystem::exists(jinja_path)) {
    return {ChatTemplate::parse(read_file(jinja_path), jinja_path.string()), std::nullopt, std::move(special_tokens)};
  }
  const auto it = config.find("chat_template");
  if (it == config.end() || it->is_null()) {
    throw ConfigError("the model has no chat template", {.file = origin, .key = "chat_template"},
                      "use a chat/instruct model, or give records a plain prompt instead of messages");
  }
  if (it->is_string()) return {ChatTemplate::parse(it->get<std::string>(), origin), std::nullopt, std::move(special_tokens)};
  if (!it->is_array()) {
    throw ModelFormatError("chat_template must be a string or a list of {name, template}", {.file = origin, .key = "chat_template"});
  }
  std::optional<ChatTemplate> default_template;
  std::optional<ChatTemplate> tool_use;
  for (const auto& entry : *it) {
    if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() || !entry.contains("template") ||
        !entry["template"].is_string()) {
      throw ModelFormatError("each named chat template must be {\"name\": str, \"template\": str}",
                             {.file = origin, .key = "chat_template"});
    }
    const std::string name = entry["name"].get<std::string>();
    if (name == "default") default_template = ChatTemplate::parse(entry["template"].get<std::string>(), origin);
    if (name == "tool_use") tool_use = ChatTemplate::parse(entry["template"].get<std::string>(), origin);
  }
  if (!default_template) {
    throw ConfigError("the model has several chat templates and none is named \"default\"",
                      {.file = origin, .key = "chat_template"});
  }
  return {std::move(*default_template), std::move(tool_use), std::move(special_tokens)};
}

std::string apply_chat_template(const ModelChatTemplate& model, const nlohmann::ordered_json& messages,
                                const ChatRenderOptions& options) {
  if (!messages.is_array()) throw InputError("messages must be a JSON array of message objects");
  if (messages.empty()) {
    throw InputError("Cannot apply chat template to an empty conversation. Provide at least one message.");
  }
  nlohmann::ordered_json chat = nlohmann::ordered_json::array();
  for (const auto& message : messages) {
    if (!message.is_object()) {
      throw InputError("Chat messages should be dicts, but got " + message.dump());
    }
    chat.push_back(normalize_message(message));
  }
  if (!options.tools.is_null() && !options.tools.is_array()) throw InputError("tools must be a JSON array or null");
  if (!options.variables.is_object()) throw InputError("extra chat template variables must be a JSON object");

  nlohmann::ordered_json variables = model.special_tokens;
  for (const auto& [key, value] : options.variables.items()) variables[key] = value;
  variables["messages"] = std::move(chat);
  variables["tools"] = options.tools;
  variables["documents"] = nullptr;
  variables["add_generation_prompt"] = options.add_generation_prompt;
  const bool use_tools = !options.tools.is_null() && model.tool_use;
  return (use_tools ? *model.tool_use : model.chat_template).render(variables, options.now);
}

}  // namespace llmbatch
