# Installs keelConfig.cmake (with components), keelConfigVersion.cmake and keel.pc.
include(CMakePackageConfigHelpers)

set(_keel_component_data "")
set(_keel_pc_libs "")
foreach(c IN LISTS KEEL_COMPONENTS)
  string(APPEND _keel_component_data
    "set(_keel_${c}_keel_deps \"${KEEL_COMPONENT_${c}_KEEL_DEPS}\")\n"
    "set(_keel_${c}_find_deps \"${KEEL_COMPONENT_${c}_FIND_DEPS}\")\n")
  # Link order: a component before the ones it depends on.
  string(PREPEND _keel_pc_libs "-lkeel_${c} ")
endforeach()
set(KEEL_COMPONENT_DATA "${_keel_component_data}")

configure_package_config_file(cmake/keelConfig.cmake.in
  ${PROJECT_BINARY_DIR}/keelConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/keel)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/keelConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/keelConfig.cmake ${PROJECT_BINARY_DIR}/keelConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/keel)

set(KEEL_PC_LIBS "${_keel_pc_libs}")
file(RELATIVE_PATH KEEL_PC_RELATIVE_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(cmake/keel.pc.in ${PROJECT_BINARY_DIR}/keel.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/keel.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
