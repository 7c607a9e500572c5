#include "edgeward/attest/eventlog.h"
namespace edgeward::attest {
StatusOr<ParsedLog> ParseImaLog(std::string_view, HashAlg, std::span<const HashAlg>) { return Unimplemented("ima"); }
}
