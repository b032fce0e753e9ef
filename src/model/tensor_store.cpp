#include "model/tensor_store.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/json_reader.h"

namespace llmbatch {
namespace fs = std::filesystem;

namespace {

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";

// weight_map of an index: tensor name -> shard file name.
std::map<std::string, std::string> read_weight_map(const std::string& index_path) {
  const auto json = read_json_file(index_path);
  const auto map = json.is_object() ? json.find("weight_map") : json.end();
  if (map == json.end() || !map->is_object()) {
    throw ModelFormatError("index has no 'weight_map' object", {.file = index_path, .key = "weight_map"});
  }
  std::map<std::string, std::string> out;
  for (const auto& [tensor, shard] : map->items()) {
    if (!shard.is_string()) {
      throw ModelFormatError("weight_map value is not a file name", {.file = index_path, .tensor = tensor});
    }
    const auto name = shard.get<std::string>();
    // Shards live beside the index; a path could escape the model directory.
    if (name.empty() || name.find('/') != std::string::npos || name == "..") {
      throw ModelFormatError("shard name '" + name + "' is not a plain file name",
                             {.file = index_path, .tensor = tensor});
    }
    out[tensor] = name;
  }
  if (out.empty()) {
    throw ModelFormatError("index lists no tensors", {.file = index_path, .key = "weight_map"},
                           "the index is incomplete; download it again");
  }
  return out;
}

}  // namespace

void TensorStore::add_file(std::unique_ptr<SafetensorsFile> file) {
  for (const auto& t : file->header().tensors) {
    const auto [it, inserted] = by_name_.emplace(t.name, Entry{&t, file.get()});
    if (!inserted) {
      throw ModelFormatError("tensor is stored twice (also in '" + it->second.file->path() + "')",
                             {.file = file->path(), .tensor = t.name});
    }
  }
  files_.push_back(std::move(file));
}

TensorStore TensorStore::open_file(const std::string& path) {
  TensorStore store;
  store.add_file(std::make_unique<SafetensorsFile>(path));
  return store;
}

TensorStore TensorStore::open(const std::string& dir) {
  const fs::path index = fs::path(dir) / kIndexFile;
  if (!fs::exists(index)) {
    const fs::path single = fs::path(dir) / kSingleFile;
    if (!fs::exists(single)) {
      throw ModelFormatError("no safetensors weights found", {.file = dir},
                             "expected model.safetensors or model.safetensors.index.json; "
                             "PyTorch .bin checkpoints are not read, convert them to safetensors");
    }
    return open_file(single.string());
  }
  const auto weight_map = read_weight_map(index.string());
  std::set<std::string> shards;
  for (const auto& [tensor, shard] : weight_map) shards.insert(shard);

  TensorStore store;
  for (const auto& shard : shards) {
    const fs::path path = fs::path(dir) / shard;
    if (!fs::exists(path)) {
      throw ModelFormatError("shard '" + shard + "' named by the index is missing", {.file = index.string()});
    }
    store.add_file(std::make_unique<SafetensorsFile>(path.string()));
  }
  for (const auto& [name, entry] : store.by_name_) {
    const auto it = weight_map.find(name);
    if (it == weight_map.end()) {
      throw ModelFormatError("tensor is in a shard but not in the index", {.file = entry.file->path(), .tensor = name});
    }
    if (fs::path(entry.file->path()).filename() != it->second) {
      throw ModelFormatError("index places the tensor in '" + it->second + "' but it is in another shard",
                             {.file = entry.file->path(), .tensor = name});
    }
  }
  for (const auto& [name, shard] : weight_map) {
    if (!store.by_name_.contains(name)) {
      throw ModelFormatError("index lists a tensor that shard '" + shard + "' does not hold",
                             {.file = index.string(), .tensor = name});
    }
  }
  return store;
}

const TensorInfo* TensorStore::find(std::string_view name) const {
  const auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : it->second.info;
}

const TensorInfo& TensorStore::get(std::string_view name) const {
  const auto* t = find(name);
  if (!t) throw ModelFormatError("tensor not found", {.tensor = std::string(name)});
  return *t;
}

std::vector<const TensorInfo*> TensorStore::tensors() const {
  std::vector<const TensorInfo*> out;
  for (const auto& [name, entry] : by_name_) out.push_back(entry.info);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name < b->name; });
  return out;
}

uint64_t TensorStore::total_bytes() const {
  uint64_t total = 0;
  for (const auto& [name, entry] : by_name_) total += entry.info->nbytes;
  return total;
}

std::span<const uint8_t> TensorStore::bytes(std::string_view name) const {
  const auto& t = get(name);
  return by_name_.at(std::string(name)).file->bytes(t, 0, t.nbytes);
}

std::span<const uint8_t> TensorStore::rows(std::string_view name, int64_t row_begin, int64_t row_end) const {
  const auto& t = get(name);
  const int64_t num_rows = t.shape.empty() ? 1 : t.shape[0];
  if (row_begin < 0 || row_begin > row_end || row_end > num_rows) {
    throw InternalError("rows [" + std::to_string(row_begin) + ", " + std::to_string(row_end) +
                            ") outside a tensor of " + std::to_string(num_rows) + " rows",
                        {.tensor = t.name});
  }
  const uint64_t row_bytes = num_rows == 0 ? 0 : t.nbytes / static_cast<uint64_t>(num_rows);
  return by_name_.at(t.name).file->bytes(t, row_begin * row_bytes, (row_end - row_begin) * row_bytes);
}

std::span<const uint8_t> TensorStore::elements(std::string_view name, int64_t begin, int64_t count) const {
  const auto& t = get(name);
  if (begin < 0 || count < 0 || begin > t.numel() || count > t.numel() - begin) {  // no overflow in begin + count
    throw InternalError("elements [" + std::to_string(begin) + ", +" + std::to_string(count) +
                            ") outside a tensor of " + std::to_string(t.numel()) + " elements",
                        {.tensor = t.name});
  }
  const uint64_t size = dtype_size(t.dtype);
  return by_name_.at(t.name).file->bytes(t, begin * size, count * size);
}

}  // namespace llmbatch
