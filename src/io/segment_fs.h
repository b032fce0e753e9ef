// File operations that survive a crash or power loss, for the output side:
// data is fsync'ed before it is renamed into place, and the directory is
// fsync'ed after, so after a crash a file either has its final name and all
// its bytes or does not exist under that name. Plus CRC-32 to check files.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace llmbatch {

// fsync of a file's data and metadata. Throws IoError.
void fsync_file(const std::string& path);
// fsync of a directory, which makes renames and new names in it durable.
void fsync_directory(const std::string& dir);
// Renames `from` (already fsync'ed) to `to` and fsyncs `to`'s directory.
void rename_durably(const std::string& from, const std::string& to);
// Writes `content` to `path` + ".tmp", fsyncs, renames durably: readers see
// the old or the new content, never a mix.
void write_file_atomically(const std::string& path, std::string_view content);
// Appends `line` (which must end in '\n') with one write, then fsyncs. A
// crash in the middle leaves at most a torn last line (see journal.h).
void append_line_durably(const std::string& path, std::string_view line);

// CRC-32 (IEEE 802.3, the polynomial of zlib and gzip); pass the previous
// value to continue over several pieces.
uint32_t crc32_update(std::span<const uint8_t> bytes, uint32_t crc = 0);
// CRC-32 of a whole file, read in 1 MiB pieces. Throws IoError.
uint32_t file_crc32(const std::string& path);

}  // namespace llmbatch
