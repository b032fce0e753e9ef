#include "tokenizer/chat_template.h"

#include "core/error.h"
#include "tokenizer/jinja_error.h"
#include "tokenizer/jinja_globals.h"
#include "tokenizer/jinja_json.h"
#include "tokenizer/jinja_parser.h"

namespace llmbatch {

struct ChatTemplate::Parsed {
  jinja::SourceText source;
  jinja::Program program;
};

ChatTemplate ChatTemplate::parse(std::string source, std::string origin) {
  jinja::SourceText text(std::move(source), std::move(origin));
  jinja::Program program = jinja::parse_template(text);
  return ChatTemplate(std::make_shared<const Parsed>(Parsed{std::move(text), std::move(program)}));
}

std::string ChatTemplate::render(const nlohmann::ordered_json& variables, const std::optional<std::tm>& now) const {
  const std::string& origin = parsed_->source.origin();
  if (!variables.is_object()) {
    throw InputError("chat template variables must be a JSON object, got " + std::string(variables.type_name()),
                     {.file = origin});
  }
  jinja::Globals globals;
  jinja::add_builtin_globals(globals, {.now = now, .origin = origin});
  try {
    for (const auto& [name, value] : variables.items()) globals[name] = jinja::from_json(value);
  } catch (const jinja::TemplateUnsupportedError& e) {
    throw UnsupportedError(std::string("chat template input uses ") + e.what(), {.file = origin});
  }
  return jinja::render_program(parsed_->program, parsed_->source, globals);
}

const std::string& ChatTemplate::source() const { return parsed_->source.text(); }

}  // namespace llmbatch
