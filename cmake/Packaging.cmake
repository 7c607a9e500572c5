# Installation layout and the Debian package (cpack -G DEB).
#
#   /usr/bin/edgeward                         the agent and its CLI
#   /usr/bin/edgeward-verifier                the cloud verifier (cloud/)
#   /usr/lib/systemd/system/edgeward.service  Type=notify unit with hardening
#   /usr/lib/sysusers.d/edgeward.conf         the control-socket group
#   /etc/edgeward/agent.yaml                  commented default config (conffile)
#   /usr/share/edgeward/rules/*.yaml          the shipped response rules
#   /usr/share/edgeward/seccomp/*.json        the shipped seccomp profiles
#   /var/lib/edgeward/                        state (0700), made by postinst
include(GNUInstallDirs)

if(TARGET edgeward-verifier)
  install(TARGETS edgeward-verifier RUNTIME DESTINATION bin)
endif()
install(FILES packaging/systemd/edgeward.service DESTINATION lib/systemd/system)
install(FILES packaging/sysusers/edgeward.conf DESTINATION lib/sysusers.d)
install(FILES packaging/agent.yaml DESTINATION /etc/edgeward
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
file(GLOB EDGEWARD_DEFAULT_RULES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/rules/default/*.yaml)
install(FILES ${EDGEWARD_DEFAULT_RULES} DESTINATION share/edgeward/rules)
install(FILES README.md DESTINATION share/doc/edgeward)
install(DIRECTORY docs/ DESTINATION share/doc/edgeward/docs)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME edgeward)
set(CPACK_PACKAGE_VENDOR "edgeward")
set(CPACK_PACKAGE_CONTACT "edgeward maintainers <security@edgeward.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "edge security agent: TPM attestation, sandboxed workloads, signed policies")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
# swtpm is for machines without a TPM (tests, demos); tpm2-tools for operators.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "tpm2-tools")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "swtpm, swtpm-tools")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
    ${CMAKE_SOURCE_DIR}/packaging/debian/postrm
    ${CMAKE_BINARY_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
file(WRITE ${CMAKE_BINARY_DIR}/packaging/conffiles "/etc/edgeward/agent.yaml\n")
include(CPack)
