// Peak memory of indexing and reading a whole input through the readers:
// it must not grow with the input size (docs/inputs.md). Prints one line:
//   records errors units index_s read_s peak_rss_kib
// Usage: bench_input_memory FILE [jsonl|openai-batch|text|hdf5-tokens] [RECORDS_PER_UNIT] [CACHE_DIR]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>

#include <spdlog/spdlog.h>

#include "io/input_source.h"
#include "io/work_units.h"

int main(int argc, char** argv) {
  using llmbatch::InputOptions;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE [FORMAT] [RECORDS_PER_UNIT] [CACHE_DIR]\n", argv[0]);
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);  // no "indexed ..." line in the figures
  InputOptions options;
  options.paths = {argv[1]};
  if (argc > 2) options.format = llmbatch::parse_input_format(argv[2]);
  if (argc > 3) options.records_per_unit = std::stoll(argv[3]);
  const std::string cache_dir = argc > 4 ? argv[4] : "";

  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const llmbatch::InputIndex index = llmbatch::index_inputs(options, cache_dir);
  const auto t1 = Clock::now();
  int64_t records = 0;
  int64_t errors = 0;
  uint64_t checksum = 0;  // keeps the reads from being optimized away
  std::unique_ptr<llmbatch::InputSource> previous;
  for (const auto& unit : index.units) {
    auto source = llmbatch::InputSource::open(index, unit, options, std::move(previous));
    while (auto record = source->next()) {
      ++records;
      errors += record->error.empty() ? 0 : 1;
      checksum += record->prompt.size() + record->prompt_ids.size();
    }
    previous = std::move(source);
  }
  const auto t2 = Clock::now();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const std::chrono::duration<double> index_s = t1 - t0;
  const std::chrono::duration<double> read_s = t2 - t1;
  std::printf("records %lld errors %lld units %zu index_s %.2f read_s %.2f peak_rss_kib %ld (checksum %llu)\n",
              static_cast<long long>(records), static_cast<long long>(errors), index.units.size(), index_s.count(),
              read_s.count(), usage.ru_maxrss, static_cast<unsigned long long>(checksum));
  return records == index.num_records ? 0 : 1;
}
