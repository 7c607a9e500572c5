# Bundle content checks, bundles.localFile as a signed bundle file and the
# shipped default rules (agent/daemon/src/bundle_content.cc, daemon.cc).
edgeward_add_test(bundle_content_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/bundle_content_test.cc
  LIBS edgeward::daemon edgeward::bundle edgeward::rules
  LABELS unit)
# The real `edgeward agent` with a signed bundles.localFile and the shipped
# rules (real runners: root).
edgeward_add_test(bundle_content_agent_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/bundle_content_agent_test.cc
  LIBS edgeward::daemon edgeward::bundle edgeward::rules nlohmann_json::nlohmann_json
  LABELS root)
if(TARGET edgeward)
  add_dependencies(bundle_content_agent_test edgeward)
endif()
# The cloud path (CloudAgent with the daemon's validator) against a real
# verifier and a private swtpm.
if(TARGET edgeward::verifier)
  edgeward_add_test(bundle_content_cloud_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/bundle_content_cloud_test.cc
    LIBS edgeward::daemon edgeward::verifier edgeward::attest edgeward::attest_node edgeward::bundle
    LABELS swtpm)
endif()
