# The cloud worker (CloudAgent) against a real verifier in-process, a
# private swtpm and real TLS on loopback.
if(TARGET edgeward::verifier)
  edgeward_add_test(cloud_agent_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/cloud_agent_test.cc ${CMAKE_CURRENT_LIST_DIR}/cloud_agent_identity_test.cc
    LIBS edgeward::daemon edgeward::verifier edgeward::attest edgeward::attest_node edgeward::policy edgeward::rules
    LABELS swtpm)
endif()
