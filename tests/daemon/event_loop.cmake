edgeward_add_test(event_loop_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/event_loop_test.cc
  LIBS edgeward::daemon
  LABELS unit)
