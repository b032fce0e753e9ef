#include "io/input_source.h"

#include <limits>

#include "core/error.h"
#include "io/input_hdf5.h"
#include "io/input_lines.h"
#include "io/input_parse.h"

namespace llmbatch {
namespace {

InputError changed_since_indexing(const std::string& path, const WorkUnit& unit, int64_t read) {
  return InputError("the file ended at record " + std::to_string(unit.first_record_in_file + read) +
                        " but was indexed with more (it changed since indexing?)",
                    {.file = path}, "rerun the job so the input is indexed again");
}

// jsonl, openai-batch and text: a LineReader positioned at the unit.
class LineSource final : public InputSource {
 public:
  LineSource(const InputIndex& index, const WorkUnit& unit, const InputOptions& options,
             std::unique_ptr<LineReader> reader)
      : path_(index.files.at(static_cast<size_t>(unit.file))), unit_(unit), options_(options) {
    if (reader == nullptr) reader = std::make_unique<LineReader>(open_byte_reader(path_), options.max_record_bytes);
    reader->skip_to(unit.begin_offset);
    reader_ = std::move(reader);
  }

  std::optional<InputRecord> next() override {
    if (read_ == unit_.num_records) return std::nullopt;
    const auto line = reader_->next();
    if (!line) throw changed_since_indexing(path_, unit_, read_);
    const LineOrigin origin{.file = path_,
                            .line = unit_.first_record_in_file + read_ + 1,
                            .index = unit_.first_index + read_};
    ++read_;
    return parse_input_line(*line, origin, options_);
  }

  // The open stream, when it can serve `unit` (same file, not past it).
  std::unique_ptr<LineReader> take_reader_for(const std::string& path, const WorkUnit& unit) {
    if (reader_ == nullptr || path != path_ || reader_->offset() > unit.begin_offset) return nullptr;
    return std::move(reader_);
  }

 private:
  std::string path_;
  WorkUnit unit_;
  InputOptions options_;
  std::unique_ptr<LineReader> reader_;
  int64_t read_ = 0;
};

// hdf5-tokens: the unit's slice, read whole on open.
class Hdf5Source final : public InputSource {
 public:
  // Both modes read token ids (RecordKind::kTokens): no options needed.
  Hdf5Source(const InputIndex& index, const WorkUnit& unit)
      : path_(index.files.at(static_cast<size_t>(unit.file))), unit_(unit) {
    const Hdf5TokenFile file(path_);
    if (unit.first_record_in_file + unit.num_records > file.num_records()) {
      throw changed_since_indexing(path_, unit, file.num_records() - unit.first_record_in_file);
    }
    slice_ = file.read(unit.first_record_in_file, unit.num_records);
  }

  std::optional<InputRecord> next() override {
    if (read_ == unit_.num_records) return std::nullopt;
    const auto i = static_cast<size_t>(read_);
    InputRecord record;
    record.index = unit_.first_index + read_;
    record.kind = RecordKind::kTokens;
    record.id = slice_.ids.empty() || slice_.ids[i].empty() ? std::to_string(record.index) : slice_.ids[i];
    const std::string where = path_ + ": record " + std::to_string(unit_.first_record_in_file + read_) + ": ";
    record.prompt_ids.reserve(static_cast<size_t>(slice_.offsets[i + 1] - slice_.offsets[i]));
    for (int64_t t = slice_.offsets[i]; t < slice_.offsets[i + 1]; ++t) {
      const int64_t id = slice_.token_ids[static_cast<size_t>(t)];
      if (id < 0 || id > std::numeric_limits<TokenId>::max()) {
        if (record.error.empty()) record.error = where + "token id " + std::to_string(id) + " is out of range";
        continue;
      }
      record.prompt_ids.push_back(static_cast<TokenId>(id));
    }
    if (slice_.offsets[i + 1] == slice_.offsets[i]) record.error = where + "empty prompt (no token ids)";
    ++read_;
    return record;
  }

 private:
  std::string path_;
  WorkUnit unit_;
  Hdf5TokenFile::Slice slice_;
  int64_t read_ = 0;
};

}  // namespace

std::unique_ptr<InputSource> InputSource::open(const InputIndex& index, const WorkUnit& unit,
                                               const InputOptions& options, std::unique_ptr<InputSource> previous) {
  if (unit.file < 0 || static_cast<size_t>(unit.file) >= index.files.size()) {
    throw InternalError("work unit " + std::to_string(unit.id) + " names file " + std::to_string(unit.file) +
                        " of " + std::to_string(index.files.size()));
  }
  if (options.format == InputFormat::kHdf5Tokens) return std::make_unique<Hdf5Source>(index, unit);
  std::unique_ptr<LineReader> reader;
  if (auto* before = dynamic_cast<LineSource*>(previous.get())) {
    reader = before->take_reader_for(index.files[static_cast<size_t>(unit.file)], unit);
  }
  return std::make_unique<LineSource>(index, unit, options, std::move(reader));
}

}  // namespace llmbatch
