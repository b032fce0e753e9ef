// "Did you mean ...?" for misspelt keys and values in job files and flags:
// the known name closest to what the user wrote, when it is close enough to
// be a typo rather than a different word.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace llmbatch {

// Optimal string alignment distance: insertions, deletions, substitutions
// and swaps of two adjacent characters each cost 1 ("max_num_seq" ->
// "max_num_seqs" is 1, "tmeperature" -> "temperature" is 1).
// Cost O(|a| * |b|).
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word` by edit_distance, if that distance is at
// most max(1, |word| / 3) (0 for words under three letters); ties go to the
// earlier candidate. nullopt when nothing is that close.
std::optional<std::string> closest_match(std::string_view word,
                                         std::span<const std::string> candidates);

}  // namespace llmbatch
