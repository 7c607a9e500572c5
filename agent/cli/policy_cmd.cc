// Placeholder until the module behind this command lands; replaced by its owner.
#include "cli/common.h"

namespace edgeward::cli {
void AddPolicyCommands(CLI::App&, Globals&) {}
}  // namespace edgeward::cli
