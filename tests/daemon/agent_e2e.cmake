# Part A: `edgeward agent` end to end, local-only (real runners: root).
edgeward_add_test(agent_e2e_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/agent_e2e_test.cc
  LIBS edgeward::daemon nlohmann_json::nlohmann_json
  LABELS root)
if(TARGET edgeward)
  add_dependencies(agent_e2e_test edgeward)
endif()
