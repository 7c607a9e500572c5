#include "edgeward/base/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace edgeward {

void SetupLogging(std::string_view level, LogFormat format) {
  auto logger = spdlog::get("edgeward");
  if (!logger) logger = spdlog::stderr_logger_mt("edgeward");
  spdlog::set_default_logger(logger);
  if (format == LogFormat::kJson) {
    // Messages are written by our own code, never with raw outside input
    // that could contain quotes; payload fields are escaped by their callers.
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","msg":"%v"})",
                        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  }
  spdlog::level::level_enum lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") lvl = spdlog::level::info;
  logger->set_level(lvl);
}

}  // namespace edgeward
