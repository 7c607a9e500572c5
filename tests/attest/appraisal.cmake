# Tests for TPM wire formats, evidence, reference values and appraisal.
set(EDGEWARD_APPRAISAL_TESTDATA "${CMAKE_CURRENT_SOURCE_DIR}/data/appraisal")

edgeward_add_test(wire_decode_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/wire_decode_test.cc
  LIBS edgeward::attest)
target_compile_definitions(wire_decode_test PRIVATE APPRAISAL_TESTDATA="${EDGEWARD_APPRAISAL_TESTDATA}")

edgeward_add_test(evidence_json_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/evidence_json_test.cc
  LIBS edgeward::attest nlohmann_json::nlohmann_json)
target_compile_definitions(evidence_json_test PRIVATE APPRAISAL_TESTDATA="${EDGEWARD_APPRAISAL_TESTDATA}")

edgeward_add_test(reference_yaml_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/reference_yaml_test.cc
  LIBS edgeward::attest)

edgeward_add_test(appraisal_fixture_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/appraisal_fixture_test.cc
  LIBS edgeward::attest)
target_compile_definitions(appraisal_fixture_test PRIVATE APPRAISAL_TESTDATA="${EDGEWARD_APPRAISAL_TESTDATA}")

# Interop with tpm2-tools on a real swtpm: tpm2_createak + tpm2_quote → our Appraise.
edgeward_add_test(appraisal_interop_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/appraisal_interop_test.cc
  LIBS edgeward::attest edgeward::crypto
  LABELS swtpm)

# Runtime logs, required logs, AK pinning and state, on software-signed evidence.
edgeward_add_test(appraisal_logs_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/appraisal_logs_test.cc
  LIBS edgeward::attest OpenSSL::Crypto)

# Incremental IMA appraisal and offline continuity, on software-signed evidence.
edgeward_add_test(appraisal_ima_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/appraisal_ima_test.cc
  LIBS edgeward::attest OpenSSL::Crypto)
