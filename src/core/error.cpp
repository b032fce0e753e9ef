#include "core/error.h"

#include <cstring>

namespace llmbatch {
namespace {

std::string format_message(std::string_view kind, const std::string& what,
                           const ErrorContext& c, const std::string& hint) {
  std::string where;
  auto add = [&where](const std::string& part) {
    where += where.empty() ? "" : ", ";
    where += part;
  };
  if (!c.file.empty()) add("file '" + c.file + "'");
  if (!c.key.empty()) add("key '" + c.key + "'");
  if (!c.tensor.empty()) add("tensor '" + c.tensor + "'");
  if (c.offset) add("byte offset " + std::to_string(*c.offset));

  std::string msg = std::string(kind) + ": " + what;
  if (!where.empty()) msg += " [" + where + "]";
  if (!hint.empty()) msg += ". " + hint;
  return msg;
}

}  // namespace

Error::Error(std::string_view kind, const std::string& what, ErrorContext context,
             const std::string& hint)
    : std::runtime_error(format_message(kind, what, context, hint)),
      context_(std::move(context)),
      description_(what) {}

std::string errno_text(int err) {
  char buf[256];
  // GNU strerror_r may return a static string instead of filling buf.
  return std::string(strerror_r(err, buf, sizeof buf));
}

}  // namespace llmbatch
