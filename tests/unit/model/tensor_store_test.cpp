#include "model/tensor_store.h"

#include <filesystem>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/random_model.h"
#include "model_test_util.h"

namespace llmbatch {
namespace {

namespace fs = std::filesystem;
using test::thrown;

// The tiny preset (untied, f32): 21 tensors, 139,584 parameters (counted in
// weight_layout_test), 4 bytes each.
constexpr size_t kTinyTensors = 21;
constexpr uint64_t kTinyBytes = 139'584 * 4;

RandomModelOptions tiny_options(uint64_t shard_size = 0) {
  RandomModelOptions o;
  o.config = random_preset_config("tiny");
  o.seed = 11;
  o.shard_size = shard_size;
  o.threads = 1;
  return o;
}

// The bytes of the file at [offset, offset + n), read without the store.
std::string file_range(const std::string& path, uint64_t offset, uint64_t n) {
  return test::read_file(path).substr(offset, n);
}

std::string as_string(std::span<const uint8_t> s) { return {reinterpret_cast<const char*>(s.data()), s.size()}; }

std::vector<std::string> shard_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".safetensors") out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

nlohmann::json read_index(const std::string& dir) {
  return nlohmann::json::parse(test::read_file(dir + "/model.safetensors.index.json"));
}
void write_index(const std::string& dir, const nlohmann::json& index) {
  test::write_file(dir + "/model.safetensors.index.json", index.dump());
}

TEST(TensorStoreTest, SingleFile) {
  const test::TempDir dir;
  random_model_write(tiny_options(), dir.str());
  const auto store = TensorStore::open(dir.str());
  EXPECT_EQ(store.num_files(), 1u);
  EXPECT_EQ(store.total_bytes(), kTinyBytes);
  const auto all = store.tensors();
  ASSERT_EQ(all.size(), kTinyTensors);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1]->name, all[i]->name);

  const auto* embed = store.find("model.embed_tokens.weight");
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(embed->shape, (std::vector<int64_t>{512, 64}));
  EXPECT_EQ(&store.get("model.embed_tokens.weight"), embed);
  EXPECT_EQ(store.find("model.embed_tokens"), nullptr);
  const auto e = thrown<ModelFormatError>([&] { store.get("lm_head.bias"); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->context().tensor, "lm_head.bias");
}

TEST(TensorStoreTest, BytesAreTheTensorsBytesInTheFile) {
  const test::TempDir dir;
  random_model_write(tiny_options(), dir.str());
  const auto store = TensorStore::open_file(dir.file("model.safetensors"));
  for (const auto* t : store.tensors()) {
    SCOPED_TRACE(t->name);
    const auto bytes = store.bytes(t->name);
    ASSERT_EQ(bytes.size(), t->nbytes);
    EXPECT_EQ(as_string(bytes), file_range(dir.file("model.safetensors"), t->offset, t->nbytes));
  }
  EXPECT_THROW(store.bytes("absent"), ModelFormatError);
}

TEST(TensorStoreTest, RowsAndElementsAreSubspansOfBytes) {
  const test::TempDir dir;
  random_model_write(tiny_options(), dir.str());
  const auto store = TensorStore::open(dir.str());
  const std::string name = "model.layers.1.mlp.down_proj.weight";  // [64, 128] f32: 512-byte rows
  const auto all = store.bytes(name);

  const auto rows = store.rows(name, 10, 13);
  EXPECT_EQ(rows.data(), all.data() + 10 * 512);
  EXPECT_EQ(rows.size(), 3u * 512);
  EXPECT_EQ(store.rows(name, 0, 64).data(), all.data());
  EXPECT_EQ(store.rows(name, 0, 64).size(), all.size());
  EXPECT_TRUE(store.rows(name, 64, 64).empty());

  const auto elems = store.elements(name, 101, 37);  // not row-aligned
  EXPECT_EQ(elems.data(), all.data() + 101 * 4);
  EXPECT_EQ(elems.size(), 37u * 4);
  EXPECT_EQ(store.elements(name, 0, 64 * 128).size(), all.size());
  EXPECT_TRUE(store.elements(name, 64 * 128, 0).empty());

  // A 1-D tensor: its rows are its elements.
  const auto norm = store.rows("model.norm.weight", 5, 9);
  EXPECT_EQ(norm.data(), store.bytes("model.norm.weight").data() + 20);
  EXPECT_EQ(norm.size(), 16u);
}

TEST(TensorStoreTest, OutOfRangeSlicesAreBugs) {
  const test::TempDir dir;
  random_model_write(tiny_options(), dir.str());
  const auto store = TensorStore::open(dir.str());
  const std::string name = "model.embed_tokens.weight";  // [512, 64]
  EXPECT_THROW(store.rows(name, -1, 2), InternalError);
  EXPECT_THROW(store.rows(name, 3, 2), InternalError);
  EXPECT_THROW(store.rows(name, 0, 513), InternalError);
  EXPECT_THROW(store.rows(name, 513, 513), InternalError);
  EXPECT_THROW(store.elements(name, -1, 1), InternalError);
  EXPECT_THROW(store.elements(name, 0, -1), InternalError);
  EXPECT_THROW(store.elements(name, 0, 512 * 64 + 1), InternalError);
  EXPECT_THROW(store.elements(name, 512 * 64, 1), InternalError);
  EXPECT_THROW(store.elements(name, 1, INT64_MAX), InternalError);  // begin + count would overflow
  EXPECT_THROW(store.elements(name, INT64_MAX, INT64_MAX), InternalError);
  const auto e = thrown<InternalError>([&] { store.rows(name, 0, 600); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->context().tensor, name);
  EXPECT_THROW(store.rows("absent", 0, 1), ModelFormatError);
  EXPECT_THROW(store.elements("absent", 0, 1), ModelFormatError);
}

TEST(TensorStoreTest, ScalarAndEmptyTensorSlices) {
  const test::TempDir dir;
  test::write_zero_safetensors(dir.file("model.safetensors"),
                               {{"scalar", DType::F32, {}}, {"no_rows", DType::F16, {0, 8}}, {"no_cols", DType::F16, {3, 0}}});
  const auto store = TensorStore::open(dir.str());
  EXPECT_EQ(store.rows("scalar", 0, 1).size(), 4u);  // a scalar is one row
  EXPECT_EQ(store.elements("scalar", 0, 1).size(), 4u);
  EXPECT_THROW(store.rows("scalar", 0, 2), InternalError);
  EXPECT_TRUE(store.rows("no_rows", 0, 0).empty());
  EXPECT_THROW(store.rows("no_rows", 0, 1), InternalError);
  EXPECT_TRUE(store.rows("no_cols", 1, 3).empty());
  EXPECT_THROW(store.elements("no_cols", 0, 1), InternalError);
}

TEST(TensorStoreTest, ShardedMatchesSingleFile) {
  const test::TempDir single, sharded;
  random_model_write(tiny_options(), single.str());
  random_model_write(tiny_options(150'000), sharded.str());
  const auto files = shard_files(sharded.str());
  ASSERT_GE(files.size(), 3u);
  EXPECT_EQ(files.front(), "model-00001-of-" + std::string(5 - std::to_string(files.size()).size(), '0') +
                               std::to_string(files.size()) + ".safetensors");

  const auto a = TensorStore::open(single.str());
  const auto b = TensorStore::open(sharded.str());
  EXPECT_EQ(b.num_files(), files.size());
  EXPECT_EQ(b.total_bytes(), a.total_bytes());
  ASSERT_EQ(b.tensors().size(), a.tensors().size());
  for (const auto* t : a.tensors()) {
    SCOPED_TRACE(t->name);
    EXPECT_EQ(as_string(b.bytes(t->name)), as_string(a.bytes(t->name)));
    EXPECT_EQ(as_string(b.rows(t->name, 1, 2)), as_string(a.rows(t->name, 1, 2)));
  }
  EXPECT_EQ(read_index(sharded.str())["metadata"]["total_size"], kTinyBytes);
}

class TensorStoreIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    random_model_write(tiny_options(150'000), dir_.str());
    index_ = read_index(dir_.str());
    shards_ = shard_files(dir_.str());
  }
  // The ModelFormatError of opening the store after the index is rewritten.
  std::optional<ModelFormatError> open_error() {
    write_index(dir_.str(), index_);
    return thrown<ModelFormatError>([&] { TensorStore::open(dir_.str()); });
  }

  test::TempDir dir_;
  nlohmann::json index_;
  std::vector<std::string> shards_;
};

TEST_F(TensorStoreIndexTest, MissingShard) {
  fs::remove(dir_.file(shards_[1]));
  const auto e = open_error();
  ASSERT_TRUE(e);
  EXPECT_CONTAINS(e->what(), shards_[1]);
  EXPECT_CONTAINS(e->what(), "missing");
}

TEST_F(TensorStoreIndexTest, TensorInAShardButNotInTheIndex) {
  index_["weight_map"].erase("model.norm.weight");
  const auto e = open_error();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->context().tensor, "model.norm.weight");
  EXPECT_CONTAINS(e->what(), "not in the index");
}

TEST_F(TensorStoreIndexTest, IndexListsATensorNoShardHolds) {
  index_["weight_map"]["model.layers.2.mlp.up_proj.weight"] = shards_[0];
  const auto e = open_error();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->context().tensor, "model.layers.2.mlp.up_proj.weight");
  EXPECT_CONTAINS(e->what(), shards_[0]);
}

TEST_F(TensorStoreIndexTest, IndexPlacesATensorInTheWrongShard) {
  const std::string name = "model.embed_tokens.weight";
  const std::string wrong = index_["weight_map"][name] == shards_[0] ? shards_[1] : shards_[0];
  index_["weight_map"][name] = wrong;
  const auto e = open_error();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->context().tensor, name);
  EXPECT_CONTAINS(e->what(), wrong);
}

TEST_F(TensorStoreIndexTest, ShardNamesMustBePlainFileNames) {
  for (const std::string& bad : {"../" + shards_[0], "sub/" + shards_[0], std::string(".."), std::string("")}) {
    SCOPED_TRACE(bad);
    index_["weight_map"]["model.norm.weight"] = bad;
    const auto e = open_error();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->context().tensor, "model.norm.weight");
    EXPECT_CONTAINS(e->what(), "plain file name");
  }
}

TEST_F(TensorStoreIndexTest, MalformedIndex) {
  index_["weight_map"]["model.norm.weight"] = 3;
  auto e = open_error();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->context().tensor, "model.norm.weight");

  index_ = {{"metadata", {{"total_size", 1}}}};
  e = open_error();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->context().key, "weight_map");
  index_ = nlohmann::json::array();
  EXPECT_TRUE(open_error());
}

TEST(TensorStoreTest, TensorStoredTwice) {
  const test::TempDir dir;
  test::write_zero_safetensors(dir.file("a.safetensors"), {{"x", DType::F32, {2}}, {"y", DType::F32, {2}}});
  test::write_zero_safetensors(dir.file("b.safetensors"), {{"x", DType::F32, {2}}});
  write_index(dir.str(), {{"weight_map", {{"x", "a.safetensors"}, {"y", "b.safetensors"}}}});
  const auto e = thrown<ModelFormatError>([&] { TensorStore::open(dir.str()); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->context().tensor, "x");
  EXPECT_CONTAINS(e->what(), "stored twice");
}

TEST(TensorStoreTest, NoWeightsAtAll) {
  const test::TempDir dir;
  auto e = thrown<ModelFormatError>([&] { TensorStore::open(dir.str()); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->context().file, dir.str());
  EXPECT_CONTAINS(e->what(), "model.safetensors");
  // A PyTorch checkpoint is not read; the hint says what to do.
  test::write_file(dir.file("pytorch_model.bin"), "PK");
  e = thrown<ModelFormatError>([&] { TensorStore::open(dir.str()); });
  ASSERT_TRUE(e);
  EXPECT_CONTAINS(e->what(), ".bin");
  EXPECT_THROW(TensorStore::open_file(dir.file("model.safetensors")), IoError);
}

TEST(TensorStoreTest, IndexWinsOverASingleFile) {
  // With both present, the index decides (as open() documents).
  const test::TempDir dir;
  test::write_zero_safetensors(dir.file("model.safetensors"), {{"single", DType::F32, {1}}});
  test::write_zero_safetensors(dir.file("s1.safetensors"), {{"sharded", DType::F32, {1}}});
  write_index(dir.str(), {{"weight_map", {{"sharded", "s1.safetensors"}}}});
  const auto store = TensorStore::open(dir.str());
  EXPECT_NE(store.find("sharded"), nullptr);
  EXPECT_EQ(store.find("single"), nullptr);
}

}  // namespace
}  // namespace llmbatch
