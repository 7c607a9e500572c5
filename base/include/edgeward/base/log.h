// The one logging setup: spdlog to stderr, plain text or JSON lines.
// Other modules include <spdlog/spdlog.h> and log through the default logger.
// Never log secrets (keys, passphrases, TPM auth values, session tokens).
#pragma once

#include <string_view>

namespace edgeward {

enum class LogFormat { kText, kJson };

// level: "trace", "debug", "info", "warn", "error", "off". Unknown → "info".
void SetupLogging(std::string_view level, LogFormat format = LogFormat::kText);

}  // namespace edgeward
