# keel_add_component(<name> SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...]
#                    [FIND_DEPENDENCIES "pkg args;..."])
#
# Creates the library keel_<name> with alias keel::<name>, public headers from
# include/keel/<name>/, its own export set (so a consumer asking only for
# `core` needs none of the other components' dependencies), and records what
# keelConfig.cmake must find_dependency() for it.
set(KEEL_COMPONENTS "" CACHE INTERNAL "")

function(keel_add_component name)
  cmake_parse_arguments(arg "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS;FIND_DEPENDENCIES;KEEL_DEPS" ${ARGN})
  set(target keel_${name})
  add_library(${target} ${arg_SOURCES})
  add_library(keel::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES
    EXPORT_NAME ${name}
    OUTPUT_NAME keel_${name}
    POSITION_INDEPENDENT_CODE ON)
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_features(${target} PUBLIC cxx_std_23)
  set(keel_deps "")
  foreach(dep IN LISTS arg_KEEL_DEPS)
    list(APPEND keel_deps keel::${dep})
  endforeach()
  target_link_libraries(${target} PUBLIC ${keel_deps} ${arg_PUBLIC_DEPS}
    PRIVATE ${arg_PRIVATE_DEPS} $<BUILD_INTERFACE:keel_warnings>)

  install(TARGETS ${target} EXPORT keel-${name}-targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/keel/${name}
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/keel)
  install(EXPORT keel-${name}-targets NAMESPACE keel::
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/keel)

  set(KEEL_COMPONENTS ${KEEL_COMPONENTS} ${name} CACHE INTERNAL "")
  set(KEEL_COMPONENT_${name}_KEEL_DEPS "${arg_KEEL_DEPS}" CACHE INTERNAL "")
  set(KEEL_COMPONENT_${name}_FIND_DEPS "${arg_FIND_DEPENDENCIES}" CACHE INTERNAL "")
endfunction()
