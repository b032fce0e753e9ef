// Post-processors of tokenizer.json: what add_special_tokens adds around one
// encoded sequence (TemplateProcessing's BOS/EOS). ByteLevel post-processing
// only trims offsets, which llmbatch does not produce, so it adds nothing.
#pragma once

#include <cstdint>
#include <vector>

#include "tokenizer/json_fields.h"

namespace llmbatch::tokenizer {

class PostProcessor {
 public:
  // Reads a "post_processor" object (TemplateProcessing, ByteLevel,
  // Sequence); null means none.
  PostProcessor() = default;
  PostProcessor(const Json& spec, const JsonPath& at);

  // `ids` with the template's special tokens around them.
  std::vector<uint32_t> apply(std::vector<uint32_t> ids) const;

 private:
  void read(const Json& spec, const JsonPath& at);
  // The single-sequence template: special-token ids, with the sequence at
  // the position of each kSequence marker.
  std::vector<int64_t> single_;
  bool has_template_ = false;
};

}  // namespace llmbatch::tokenizer
