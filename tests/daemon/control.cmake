edgeward_add_test(control_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/control_test.cc
  LIBS edgeward::daemon nlohmann_json::nlohmann_json
  LABELS unit)
