// A model directory's chat template, and rendering a conversation with it
// the way transformers' tokenizer.apply_chat_template(messages,
// tokenize=False) does (transformers 5.x, tokenization_utils_base.py and
// utils/chat_template_utils.py):
//
//   - the template comes from DIR/chat_template.jinja, else from
//     tokenizer_config.json's `chat_template` (a string, or a list of named
//     templates: "tool_use" when tools are given and it exists, else "default");
//   - the template sees messages, tools (None unless given), documents (None),
//     add_generation_prompt and the tokenizer's named special tokens
//     (bos_token, eos_token, unk_token, sep_token, pad_token, cls_token,
//     mask_token: those that are set; an AddedToken object gives its content);
//   - an empty conversation is an error; message keys whose value is null are
//     dropped; a reasoning field (reasoning_content, thinking, reasoning) is
//     copied to both `thinking` and `reasoning_content`.
//
// Not done: continue_final_message, documents, callable tools.
#pragma once

#include <ctime>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tokenizer/chat_template.h"

namespace llmbatch {

struct ModelChatTemplate {
  ChatTemplate chat_template;            // the default template
  std::optional<ChatTemplate> tool_use;  // the template named "tool_use", if any
  nlohmann::ordered_json special_tokens = nlohmann::ordered_json::object();  // {"bos_token": "<s>", ...}
};

// Reads DIR/tokenizer_config.json (and DIR/chat_template.jinja). Throws
// IoError, ModelFormatError, ConfigError (no template, or invalid Jinja) or
// UnsupportedError.
ModelChatTemplate load_chat_template(const std::filesystem::path& model_dir);

// Reads a tokenizer_config.json. Throws IoError when it cannot be read and
// ModelFormatError when it is not JSON (a syntax error or a number too large
// for a double) or not an object.
nlohmann::ordered_json read_tokenizer_config(const std::filesystem::path& path);

// The special tokens a tokenizer_config.json names, as transformers'
// special_tokens_map. Throws ModelFormatError for a token that is neither a
// string, an AddedToken object nor null.
nlohmann::ordered_json chat_special_tokens(const nlohmann::ordered_json& tokenizer_config,
                                           const std::string& origin = {});

struct ChatRenderOptions {
  bool add_generation_prompt = false;
  nlohmann::ordered_json tools = nullptr;  // a JSON array of tool schemas, or null
  // More template variables (an object); they override the special tokens.
  nlohmann::ordered_json variables = nlohmann::ordered_json::object();
  std::optional<std::tm> now;  // what strftime_now() sees
};

// Renders `messages` (a JSON array of message objects). Throws InputError
// for a malformed conversation or one the template rejects.
std::string apply_chat_template(const ModelChatTemplate& model, const nlohmann::ordered_json& messages,
                                const ChatRenderOptions& options = {});

}  // namespace llmbatch
