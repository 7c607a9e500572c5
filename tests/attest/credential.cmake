# Software MakeCredential and the tpm2-tools credential file
# (attest/src/credential_*.cc).
edgeward_add_test(credential_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/credential_file_test.cc ${CMAKE_CURRENT_LIST_DIR}/credential_make_test.cc
  LIBS edgeward::attest
  LABELS unit)
# Interop with a real swtpm and tpm2-tools (tpm2_makecredential,
# tpm2_activatecredential): no mocks.
edgeward_add_test(credential_interop_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/credential_interop_test.cc
  LIBS edgeward::attest
  LABELS swtpm)
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/credential_tpm_test.cc AND TARGET edgeward::tpm)
  edgeward_add_test(credential_tpm_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/credential_tpm_test.cc
    LIBS edgeward::attest edgeward::tpm
    LABELS swtpm)
endif()
