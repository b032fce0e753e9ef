// results_segments_driver OUT_DIR: writes what a two-rank job that crashed
// once would leave in its output directory, through the real SegmentWriter,
// for results_cli_test.sh to merge, export and dump:
//
//   records 0..5 in units {0,1} (rank 0), {2,3} (rank 1), {4,5} (rank 0);
//   a commit of rank 1 that crashed after its rename (an orphan segment
//   duplicating record 4, its journal line torn); a leftover *.tmp;
//   status.json of a running job; OUT_DIR/foreign.h5, an HDF5 file that is
//   not a results file.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "io/hdf5_handle.h"
#include "io/job_status.h"
#include "io/segment_layout.h"
#include "io/segment_writer.h"

namespace {

using namespace llmbatch;

ResultRow generated(int64_t index, int32_t sample, std::string text, std::vector<TokenId> ids, FinishReason f) {
  ResultRow r;
  r.index = index;
  r.sample = sample;
  r.id = "req-" + std::to_string(index);
  r.prompt_ids = {1, 15043, 29892};
  r.output_ids = std::move(ids);
  r.text = std::move(text);
  r.finish_reason = f;
  return r;
}

std::vector<ResultRow> record_rows(int64_t index) {
  switch (index) {
    case 0: {  // n = 2 with logprobs
      ResultRow a = generated(0, 0, "Hello", {15043, 2}, FinishReason::kEos);
      a.token_logprobs = {-0.5f, -0.25f};
      a.top_logprobs = {{{15043, -0.5f}, {6324, -1.5f}}, {{2, -0.25f}, {29889, -2.0f}}};
      ResultRow b = generated(0, 1, "Hi there", {6324, 727, 2}, FinishReason::kStop);
      b.token_logprobs = {-1.5f, -0.75f, -0.125f};
      b.top_logprobs = {{{15043, -0.5f}}, {{727, -0.75f}}, {{2, -0.125f}}};
      return {a, b};
    }
    case 1: {  // score mode
      ResultRow r = generated(1, 0, "", {}, FinishReason::kNone);
      r.prompt_logprobs = {-2.5f, -0.5f};
      r.sum_logprob = -3.0;
      r.is_greedy = true;
      return {r};
    }
    case 2: {
      ResultRow r = generated(2, 0, "", {}, FinishReason::kNone);
      r.prompt_ids.clear();
      r.status = RecordStatus::kError;
      r.error = "prompt is longer than max_model_len (5000 > 4096)";
      return {r};
    }
    case 3: return {generated(3, 0, "", {}, FinishReason::kEos)};
    case 4: return {generated(4, 0, "héllo 世界 🙂", {7, 8, 9}, FinishReason::kLength)};
    default: return {generated(index, 0, "plain", {10, 11}, FinishReason::kLength)};
  }
}

void commit_unit(SegmentWriter& w, int64_t unit, std::vector<int64_t> records) {
  for (const int64_t i : records) {
    for (ResultRow& r : record_rows(i)) w.add_row(unit, std::move(r));
  }
  w.complete_unit(unit);
  w.commit();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: results_segments_driver OUT_DIR\n");
    return 1;
  }
  const std::string out = argv[1];
  const SegmentOptions options{.attributes = {{"job_yaml", "mode: generate\nsampling: {n: 2}\n"},
                                              {"model_hash", "sha256:0123"},
                                              {"llmbatch_version", "0.1.0"}}};
  SegmentWriter rank0(out, 0, options), rank1(out, 1, options);
  commit_unit(rank0, 0, {0, 1});
  commit_unit(rank1, 1, {2, 3});
  commit_unit(rank0, 2, {4, 5});
  // The crash: rank 1 commits unit 7 (rows duplicating record 4), then its
  // journal append is cut short.
  const std::string journal = journal_path(out, 1);
  const auto committed_size = std::filesystem::file_size(journal);
  commit_unit(rank1, 7, {4});
  std::filesystem::resize_file(journal, committed_size + 20);
  std::ofstream(std::filesystem::path(segments_dir(out)) / "seg-r0-5.h5.tmp") << "partial";

  JobStatus status;
  status.records_done = 6;
  status.records_total = 10;
  status.records_ok = 5;
  status.records_error = 1;
  status.prompt_tokens = 15;
  status.generated_tokens = 10;
  status.tokens_per_s = 42.5;
  status.kv_usage = 0.25;
  status.eta_s = 3.0;
  status.started_at = 1700000000;
  status.updated_at = 1700000010;
  write_job_status(out, status);

  H5Id foreign = h5_file_create((std::filesystem::path(out) / "foreign.h5").string());
  foreign.close("foreign.h5");
  return 0;
}
