// NormalizedString::split of the Rust library, on ranges: the matches and
// the gaps between them form a cover of the piece, which each behavior
// regroups; empty results are dropped.
#include <algorithm>

#include "tokenizer/pre_tokenizer.h"

namespace llmbatch::tokenizer {
namespace {

struct Part {
  size_t begin;
  size_t end;
  bool is_match;
};

}  // namespace

void split_piece(const Piece& piece, const std::vector<MatchSpan>& matches, bool invert,
                 SplitBehavior behavior, std::vector<Piece>& out) {
  const size_t len = piece.end - piece.begin;
  std::vector<Part> parts;
  parts.reserve(matches.size() * 2 + 1);
  size_t prev = 0;
  for (const MatchSpan& m : matches) {
    if (prev != m.begin) parts.push_back({prev, m.begin, invert});
    parts.push_back({m.begin, m.end, !invert});
    prev = m.end;
  }
  if (prev != len || len == 0) parts.push_back({prev, len, invert});

  // (range, keep) after regrouping.
  std::vector<Part> groups;  // is_match here means "remove"
  groups.reserve(parts.size());
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const Part& p : parts) groups.push_back({p.begin, p.end, false});
      break;
    case SplitBehavior::kRemoved:
      groups = parts;
      break;
    case SplitBehavior::kContiguous:
      for (const Part& p : parts) {
        if (p.is_match == previous_match && !groups.empty()) {
          groups.back().end = p.end;
        } else {
          groups.push_back({p.begin, p.end, false});
        }
        previous_match = p.is_match;
      }
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const Part& p : parts) {
        if (p.is_match && !previous_match && !groups.empty()) {
          groups.back().end = p.end;
        } else {
          groups.push_back({p.begin, p.end, false});
        }
        previous_match = p.is_match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (size_t i = parts.size(); i-- > 0;) {
        const Part& p = parts[i];
        if (p.is_match && !previous_match && !groups.empty()) {
          groups.back().begin = p.begin;
        } else {
          groups.push_back({p.begin, p.end, false});
        }
        previous_match = p.is_match;
      }
      std::reverse(groups.begin(), groups.end());
      break;
  }
  for (const Part& g : groups) {
    if (g.is_match || g.begin == g.end) continue;
    out.push_back({piece.begin + g.begin, piece.begin + g.end, piece.at_start && g.begin == 0});
  }
}

}  // namespace llmbatch::tokenizer
