// Python `str` semantics over UTF-8 strings, for the Jinja interpreter.
//
// Jinja runs on Python strings: lengths, indexes and slices count code
// points, `strip()` removes Unicode whitespace, and `repr()` escapes what
// Python considers unprintable. We keep strings as UTF-8 and decode on the
// fly; every function here mirrors the Python method it is named after.
//
// Case mapping is utf8proc's one-to-one mapping plus the unconditional
// one-to-many mappings of SpecialCasing.txt ('ß'.upper() == 'SS'), except
// the Greek ones with iota subscripts (a known gap).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmbatch::jinja {

// Decodes UTF-8; invalid bytes decode as U+FFFD (input strings come from
// nlohmann::json, which has validated them already).
std::u32string utf8_decode(std::string_view text);
std::string utf8_encode(std::u32string_view code_points);
void utf8_append(std::string& out, char32_t code_point);
size_t utf8_length(std::string_view text);

// Python's str.isspace() for one code point (also what `\s` matches in re).
bool py_isspace(char32_t c);
// Python's str.isprintable() for one code point.
bool py_isprintable(char32_t c);

// str.strip / lstrip / rstrip; `chars` absent means whitespace.
std::string py_strip(std::string_view text, bool left, bool right,
                     const std::optional<std::string>& chars = std::nullopt);
std::string py_upper(std::string_view text);
std::string py_lower(std::string_view text);
std::string py_capitalize(std::string_view text);
std::string py_title(std::string_view text);
// str.split(sep, maxsplit); no `sep` splits on whitespace runs and drops empties.
std::vector<std::string> py_split(std::string_view text, const std::optional<std::string>& sep,
                                  int64_t maxsplit = -1);
// str.rsplit(sep, maxsplit).
std::vector<std::string> py_rsplit(std::string_view text, const std::optional<std::string>& sep,
                                   int64_t maxsplit = -1);
std::vector<std::string> py_splitlines(std::string_view text, bool keepends = false);
// str.replace(old, new, count); count < 0 replaces all.
std::string py_replace(std::string_view text, std::string_view from, std::string_view to,
                       int64_t count = -1);
// str.count(sub) and str.find / rfind(sub), in code points.
int64_t py_count(std::string_view text, std::string_view sub);
int64_t py_find(std::string_view text, std::string_view sub, bool reverse = false);
// Python repr() of a str: quoted with ' (or " when only ' occurs), escapes.
std::string py_repr_string(std::string_view text);

}  // namespace llmbatch::jinja
