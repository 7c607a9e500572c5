edgeward_add_test(sd_notify_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/sd_notify_test.cc
  LIBS edgeward::daemon
  LABELS unit)
