// Streaming detokenization: text for each new token id as soon as it is
// final, for stop strings and streamed output.
//
// Decoding one id alone is wrong twice over: a character split across
// byte tokens would be emitted as broken UTF-8, and SentencePiece decoders
// strip the leading space of the first token they see ("▁world" alone is
// "world"). So each step decodes a short window of recent ids twice, with
// and without the new ones, and emits the difference; while that text ends
// in U+FFFD (bytes of a character still to come) it waits.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace llmbatch::tokenizer {

class Tokenizer;

class IncrementalDetokenizer {
 public:
  // `context` are ids that come before the streamed ones (the prompt): they
  // are never emitted, but decide whether the first new token starts with a
  // space. The tokenizer must outlive this object.
  IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens,
                         std::span<const uint32_t> context = {});

  // Adds one id; returns the text that became final (often empty or one
  // token's text). Always whole UTF-8 characters.
  std::string add(uint32_t id);
  // Returns the text still held back (an unfinished character, as U+FFFD)
  // at the end of the stream.
  std::string flush();

 private:
  std::string window_text(size_t end) const;

  const Tokenizer& tokenizer_;
  bool skip_special_tokens_;
  std::vector<uint32_t> ids_;
  size_t prefix_offset_;  // window start: ids before it are done
  size_t read_offset_;    // ids before it have been emitted
};

}  // namespace llmbatch::tokenizer
