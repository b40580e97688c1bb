# drllm_torch: LibTorch for the build.
#
# CPU build (default): an imported target made straight from a LibTorch tree (the torch wheel's folder, or a
# LibTorch download), linking only libtorch_cpu and libc10. The wheel's own TorchConfig.cmake refuses to
# configure unless it finds a CUDA toolkit, which a CPU machine need not have.
# CUDA build (-DDRLLM_CUDA=ON): LibTorch's TorchConfig.cmake, with its CUDA libraries.

set(DRLLM_PYTHON "${CMAKE_SOURCE_DIR}/.venv/bin/python" CACHE FILEPATH "Python with the torch wheel")
option(DRLLM_CUDA "Link LibTorch's CUDA libraries (to run on GPUs; needs the CUDA toolkit)" OFF)

# The LibTorch root: from Torch_DIR (<root>/share/cmake/Torch) when given, else from the wheel.
if(Torch_DIR)
  get_filename_component(DRLLM_TORCH_ROOT "${Torch_DIR}/../../.." ABSOLUTE)
else()
  execute_process(COMMAND ${DRLLM_PYTHON} -c "import os, torch; print(os.path.dirname(torch.__file__))"
                  OUTPUT_VARIABLE DRLLM_TORCH_ROOT OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE torch_status)
  if(NOT torch_status EQUAL 0)
    message(FATAL_ERROR "No LibTorch: run scripts/setup (it installs the torch wheel into .venv), "
                        "or pass -DTorch_DIR=/path/to/libtorch/share/cmake/Torch")
  endif()
  set(Torch_DIR "${DRLLM_TORCH_ROOT}/share/cmake/Torch")
endif()
message(STATUS "LibTorch: ${DRLLM_TORCH_ROOT}")

add_library(drllm_torch INTERFACE)
if(DRLLM_CUDA)
  # Name the architecture so TorchConfig does not probe for a GPU at configure time.
  if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST} AND NOT TORCH_CUDA_ARCH_LIST)
    set(TORCH_CUDA_ARCH_LIST "9.0")
  endif()
  set(CMAKE_CUDA_STANDARD 17)
  find_package(Torch REQUIRED)
  target_link_libraries(drllm_torch INTERFACE ${TORCH_LIBRARIES})
  # The wheel's libtorch_cuda needs the CUDA libraries that came with it (NCCL above all, newer than a system
  # toolkit's): link and run against those folders first.
  file(GLOB wheel_cuda_dirs "${DRLLM_TORCH_ROOT}/../nvidia/*/lib")
  foreach(dir ${wheel_cuda_dirs})
    target_link_options(drllm_torch INTERFACE "-Wl,-rpath-link,${dir}" "-Wl,-rpath,${dir}")
  endforeach()
  target_compile_definitions(drllm_torch INTERFACE DRLLM_WITH_CUDA=1)
else()
  find_library(DRLLM_TORCH_CPU torch_cpu PATHS "${DRLLM_TORCH_ROOT}/lib" NO_DEFAULT_PATH REQUIRED)
  find_library(DRLLM_C10 c10 PATHS "${DRLLM_TORCH_ROOT}/lib" NO_DEFAULT_PATH REQUIRED)
  target_include_directories(drllm_torch SYSTEM INTERFACE "${DRLLM_TORCH_ROOT}/include"
                             "${DRLLM_TORCH_ROOT}/include/torch/csrc/api/include")
  target_link_libraries(drllm_torch INTERFACE ${DRLLM_TORCH_CPU} ${DRLLM_C10})
  # The ABI LibTorch was built with (the wheels since 2.6 use the C++11 ABI).
  execute_process(COMMAND ${DRLLM_PYTHON} -c "import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))"
                  OUTPUT_VARIABLE torch_abi OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE abi_status)
  if(NOT abi_status EQUAL 0)
    set(torch_abi 1)
  endif()
  target_compile_definitions(drllm_torch INTERFACE _GLIBCXX_USE_CXX11_ABI=${torch_abi})
  set_target_properties(drllm_torch PROPERTIES INTERFACE_LINK_OPTIONS "-Wl,-rpath,${DRLLM_TORCH_ROOT}/lib")
endif()
