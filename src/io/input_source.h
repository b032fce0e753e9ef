// Reads the records of one work unit, in order.
//
//   class InputSource {
//     static std::unique_ptr<InputSource> open(const InputIndex&, const WorkUnit&,
//                                              const InputOptions&, std::unique_ptr<InputSource> previous = {});
//     virtual std::optional<InputRecord> next() = 0;
//   };
//
// next() yields exactly unit.num_records records with indices
// unit.first_index, +1, ..., then nullopt. A malformed record is a record
// with `error` set, never an exception; next() throws only for a problem
// with the whole file (IoError: unreadable; InputError: corrupt compressed
// stream, bad HDF5 datasets, or a file that changed since indexing).
//
// Memory: one read buffer (1 MiB, growing to input.max_record_bytes for a
// long line) per source; hdf5-tokens holds one unit's token ids.
//
// Compressed files cannot seek: a unit of a .gz/.zst file decompresses from
// the file start up to the unit. Pass the source of the unit read before as
// `previous`: when it read the same file and stopped at or before this
// unit, its stream moves on from there, so a rank that claims a file's units
// in increasing order decompresses the file once (plain files just seek).
#pragma once

#include <memory>
#include <optional>

#include "io/input_options.h"
#include "io/record.h"
#include "io/work_units.h"

namespace llmbatch {

class InputSource {
 public:
  virtual ~InputSource() = default;

  static std::unique_ptr<InputSource> open(const InputIndex& index, const WorkUnit& unit,
                                           const InputOptions& options,
                                           std::unique_ptr<InputSource> previous = nullptr);

  virtual std::optional<InputRecord> next() = 0;
};

}  // namespace llmbatch
