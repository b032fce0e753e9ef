# llmbatch_module(NAME SOURCES... [DEPS targets...])
# One static library per src/ folder, named llmbatch_<NAME>. Includes are
# rooted at src/ ("core/error.h"), and a module links only what it names, so
# a dependency that points the wrong way fails to link.
function(llmbatch_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(llmbatch_${name} STATIC ${ARG_SOURCES})
  target_include_directories(llmbatch_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(llmbatch_${name} PUBLIC ${ARG_DEPS})
  set_target_properties(llmbatch_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

# llmbatch_unit_test(MODULE SOURCES... [DEPS targets...])
# One GoogleTest binary per module (tests/unit/<module>/), tests discovered
# into ctest with the module name as a label.
function(llmbatch_unit_test module)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  set(target ${module}_test)
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE llmbatch_${module} ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${target} PRIVATE
    LLMBATCH_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    LLMBATCH_FIXTURES_DIR="${PROJECT_SOURCE_DIR}/tests/fixtures")
  llmbatch_discover_tests(${target} unit ${module})
endfunction()

# llmbatch_discover_tests(TARGET LABELS...)
# gtest_discover_tests into ctest with several labels. gtest_discover_tests
# flattens a list-valued LABELS (CMake 3.25 loses every escape on the way),
# so the labels are set afterwards on the discovered test list.
function(llmbatch_discover_tests target)
  gtest_discover_tests(${target} TEST_LIST ${target}_tests DISCOVERY_TIMEOUT 60)
  set(labels_file ${CMAKE_CURRENT_BINARY_DIR}/${target}_labels.cmake)
  # Written as LABELS "unit;core": one argument that the property reads as a list.
  file(WRITE ${labels_file}
       "if(${target}_tests)\n  set_tests_properties(\${${target}_tests} PROPERTIES LABELS \"${ARGN}\")\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${labels_file})
endfunction()
