#include "model/model_dir.h"

#include <filesystem>

#include "core/error.h"
#include "model/weight_layout.h"

namespace llmbatch {
namespace fs = std::filesystem;

ModelDir model_dir_open(const std::string& path) {
  if (!fs::is_directory(path)) {
    throw IoError("not a directory", {.file = path}, "point --model at a Hugging Face model directory");
  }
  const fs::path config_path = fs::path(path) / "config.json";
  if (!fs::exists(config_path)) {
    throw ModelFormatError("config.json is missing", {.file = path}, "is this a Hugging Face model directory?");
  }
  ModelConfig config = model_config_load(config_path.string());
  GenerationConfig generation = generation_config_load((fs::path(path) / "generation_config.json").string());
  TensorStore tensors = TensorStore::open(path);
  validate_tensors(config, tensors, path);
  return ModelDir{path, std::move(config), std::move(generation), std::move(tensors)};
}

}  // namespace llmbatch
