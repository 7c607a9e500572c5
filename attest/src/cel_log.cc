#include "edgeward/attest/eventlog.h"
namespace edgeward::attest {
StatusOr<ParsedLog> ParseCelLog(std::string_view) { return Unimplemented("cel"); }
}
