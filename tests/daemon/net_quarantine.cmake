# The quarantine's network part: real nftables in fresh network namespaces
# (root), and the agent applying / reporting / releasing it end to end.
edgeward_add_test(net_quarantine_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/net_quarantine_test.cc
  LIBS edgeward::daemon nlohmann_json::nlohmann_json
  LABELS root)
# net_quarantine.h is the daemon's private header.
target_include_directories(net_quarantine_test PRIVATE ${PROJECT_SOURCE_DIR}/agent/daemon/src)
if(TARGET edgeward)
  add_dependencies(net_quarantine_test edgeward)
endif()
