#include "io/record.h"

namespace llmbatch {

std::string_view record_status_name(RecordStatus status) {
  return status == RecordStatus::kOk ? "ok" : "error";
}

std::string_view finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kEos: return "eos";
    case FinishReason::kNone: break;
  }
  return "";
}

}  // namespace llmbatch
