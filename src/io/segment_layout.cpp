#include "io/segment_layout.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <utility>

namespace llmbatch {
namespace {

// Parses the decimal number that `text` consists of entirely.
template <typename T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

std::optional<int> parse_journal_rank(const std::string& name) {
  const std::string_view prefix = "journal-r", suffix = ".jsonl";
  if (!name.starts_with(prefix) || !name.ends_with(suffix)) return std::nullopt;
  return parse_number<int>(std::string_view(name).substr(prefix.size(), name.size() - prefix.size() - suffix.size()));
}

}  // namespace

std::string segments_dir(const std::string& out_dir) {
  return (std::filesystem::path(out_dir) / "segments").string();
}

std::string segment_file_name(int rank, int64_t number) {
  return "seg-r" + std::to_string(rank) + "-" + std::to_string(number) + ".h5";
}

std::optional<SegmentName> parse_segment_file_name(const std::string& name) {
  const std::string_view prefix = "seg-r", suffix = ".h5";
  if (!name.starts_with(prefix) || !name.ends_with(suffix)) return std::nullopt;
  const std::string_view middle =
      std::string_view(name).substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  const size_t dash = middle.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto rank = parse_number<int>(middle.substr(0, dash));
  const auto number = parse_number<int64_t>(middle.substr(dash + 1));
  if (!rank || !number) return std::nullopt;
  return SegmentName{*rank, *number};
}

std::string journal_path(const std::string& out_dir, int rank) {
  return (std::filesystem::path(out_dir) / ("journal-r" + std::to_string(rank) + ".jsonl")).string();
}

std::vector<std::string> journal_paths(const std::string& out_dir) {
  std::vector<std::pair<int, std::string>> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(out_dir, ec)) {
    if (!entry.is_regular_file()) continue;
    if (const auto rank = parse_journal_rank(entry.path().filename().string())) {
      found.emplace_back(*rank, entry.path().string());
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  for (auto& [rank, path] : found) paths.push_back(std::move(path));
  return paths;
}

std::string status_path(const std::string& out_dir) {
  return (std::filesystem::path(out_dir) / "status.json").string();
}

}  // namespace llmbatch
