#include "tokenizer/post_processor.h"

#include "core/error.h"

namespace llmbatch::tokenizer {
namespace {

constexpr int64_t kSequence = -1;

}  // namespace

PostProcessor::PostProcessor(const Json& spec, const JsonPath& at) { read(spec, at); }

void PostProcessor::read(const Json& spec, const JsonPath& at) {
  const std::string type = json_type(spec, at);
  if (type == "ByteLevel") return;
  if (type == "Sequence") {
    const Json& list = json_require(spec, "processors", at);
    if (!list.is_array()) {
      throw ModelFormatError("'processors' must be a list",
                             {.file = at.file, .key = (at / "processors").key});
    }
    for (size_t i = 0; i < list.size(); ++i) read(list[i], (at / "processors")[i]);
    return;
  }
  if (type != "TemplateProcessing") json_unsupported("post-processor", type, at);
  if (has_template_) {
    throw UnsupportedError("more than one TemplateProcessing in a post-processor Sequence",
                           {.file = at.file, .key = at.key});
  }
  has_template_ = true;
  const Json& specials = json_require(spec, "special_tokens", at);
  const Json& single = json_require(spec, "single", at);
  if (!single.is_array()) {
    throw ModelFormatError("'single' must be a list", {.file = at.file, .key = (at / "single").key});
  }
  for (size_t i = 0; i < single.size(); ++i) {
    const JsonPath where = (at / "single")[i];
    if (json_find(single[i], "Sequence") != nullptr) {
      single_.push_back(kSequence);
      continue;
    }
    const Json& piece = json_require(single[i], "SpecialToken", where);
    const std::string name = json_string(piece, "id", where / "SpecialToken");
    const JsonPath special_at = at / "special_tokens" / name;
    const Json& entry = json_require(specials, name, at / "special_tokens");
    const Json& ids = json_require(entry, "ids", special_at);
    if (!ids.is_array()) {
      throw ModelFormatError("'ids' must be a list of ids",
                             {.file = at.file, .key = (special_at / "ids").key});
    }
    for (const Json& id : ids) {
      if (!id.is_number_unsigned()) {
        throw ModelFormatError("'ids' must be a list of ids",
                               {.file = at.file, .key = (special_at / "ids").key});
      }
      single_.push_back(id.get<int64_t>());
    }
  }
}

std::vector<uint32_t> PostProcessor::apply(std::vector<uint32_t> ids) const {
  if (!has_template_) return ids;
  std::vector<uint32_t> out;
  out.reserve(ids.size() + single_.size());
  for (int64_t item : single_) {
    if (item == kSequence) {
      out.insert(out.end(), ids.begin(), ids.end());
    } else {
      out.push_back(static_cast<uint32_t>(item));
    }
  }
  return out;
}

}  // namespace llmbatch::tokenizer
