edgeward_add_test(agent_log_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/agent_log_test.cc
  LIBS edgeward::daemon spdlog::spdlog nlohmann_json::nlohmann_json
  LABELS unit)
