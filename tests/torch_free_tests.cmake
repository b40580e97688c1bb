# The unit tests that need no LibTorch: included by tests/CMakeLists.txt, and by the sanitizer build of
# scripts/fuzz (-DDRLLM_FUZZ=ON), which runs them under AddressSanitizer and UndefinedBehaviorSanitizer. Expects
# GoogleTest found and DRLLM_GTEST_ENV / DRLLM_GTEST_SKIPPED set (tests/CMakeLists.txt says what they are).
# The console (log level, progress line) on its own.
add_executable(drllm_common_tests ${CMAKE_CURRENT_LIST_DIR}/common/test_console.cpp ${CMAKE_CURRENT_LIST_DIR}/common/test_tensorboard.cpp ${CMAKE_CURRENT_LIST_DIR}/common/test_atomic_file.cpp)
target_include_directories(drllm_common_tests PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(drllm_common_tests PRIVATE drllm_common GTest::gtest_main)
gtest_discover_tests(drllm_common_tests DISCOVERY_MODE PRE_TEST PROPERTIES TIMEOUT 60)

add_executable(drllm_data_tests
  ${CMAKE_CURRENT_LIST_DIR}/data/tasks/test_grading.cpp
  ${CMAKE_CURRENT_LIST_DIR}/data/tasks/test_datasets.cpp
  ${CMAKE_CURRENT_LIST_DIR}/data/tasks/test_tasks.cpp
  ${CMAKE_CURRENT_LIST_DIR}/data/text/test_tokenizer.cpp)
target_include_directories(drllm_data_tests PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(drllm_data_tests PRIVATE DRLLM_ASSETS_DIR="${DRLLM_ASSETS}" DRLLM_DATASETS_DIR="${DRLLM_DATASETS}")
target_link_libraries(drllm_data_tests PRIVATE drllm_text drllm_tasks GTest::gtest_main)
gtest_discover_tests(drllm_data_tests DISCOVERY_MODE PRE_TEST PROPERTIES TIMEOUT 300 ENVIRONMENT "${DRLLM_GTEST_ENV}"
                     SKIP_REGULAR_EXPRESSION "${DRLLM_GTEST_SKIPPED}")
