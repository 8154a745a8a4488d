# Helpers shared by every folder. cyclr_test(NAME SOURCES... LIBS ...) adds a GoogleTest binary
# registered with ctest, so adding a test is one line (as leveldb does).
find_package(GTest QUIET)

function(cyclr_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  foreach(src ${T_SOURCES})
    if(NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${src})
      message(WARNING "test ${name} skipped: ${src} does not exist")
      return()
    endif()
  endforeach()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "CYCLR_SOURCE_DIR=${PROJECT_SOURCE_DIR};CYCLR_BIN_DIR=${CMAKE_BINARY_DIR}/bin"
    LABELS "${T_LABELS}")
endfunction()

# Adds a folder if it has a CMakeLists.txt (lets parts of the tree be built while others grow).
macro(cyclr_add_dir dir)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/CMakeLists.txt)
    add_subdirectory(${dir})
  endif()
endmacro()
