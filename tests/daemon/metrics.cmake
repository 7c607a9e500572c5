edgeward_add_test(metrics_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/metrics_test.cc
  LIBS edgeward::daemon
  LABELS unit)
