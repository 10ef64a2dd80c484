# Finds LibTorch and exposes it as the INTERFACE target semharness_torch.
# Order: whatever -DCMAKE_PREFIX_PATH / Torch_DIR names (a CUDA LibTorch, e.g. the GPU machine's), else the
# torch wheel in the project's .venv (scripts/setup.sh installs it), else Debian's libtorch-dev.
if(NOT Torch_DIR AND EXISTS "${PROJECT_SOURCE_DIR}/.venv/bin/python")
  execute_process(
    COMMAND "${PROJECT_SOURCE_DIR}/.venv/bin/python" -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
    OUTPUT_VARIABLE _venv_torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(_venv_torch_prefix)
    list(APPEND CMAKE_PREFIX_PATH "${_venv_torch_prefix}")
  endif()
endif()

# A CUDA LibTorch makes Caffe2's cmake look for the CUDA toolkit; point it at the usual place.
if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
  set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
endif()
if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(TORCH_CUDA_ARCH_LIST "9.0")  # the lent H100/H200
endif()

find_package(Torch REQUIRED)
message(STATUS "LibTorch: ${Torch_DIR} (CUDA build: ${TORCH_CUDA_LIBRARIES})")

add_library(semharness_torch INTERFACE)
target_link_libraries(semharness_torch INTERFACE ${TORCH_LIBRARIES})
separate_arguments(_torch_cxx_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
target_compile_options(semharness_torch INTERFACE ${_torch_cxx_flags})

# A pip wheel's LibTorch finds its CUDA libraries (nvidia/*/lib beside torch/) through Python, which loads
# them first. A C++ program must be told: RPATH (not RUNPATH, which is not transitive) to those folders,
# ahead of any system copy (an older NCCL in /usr/local/cuda/lib breaks the link otherwise).
get_filename_component(_torch_lib_dir "${TORCH_LIBRARY}" DIRECTORY)
file(GLOB _wheel_nvidia_dirs "${_torch_lib_dir}/../../nvidia/*/lib")
if(_wheel_nvidia_dirs)
  list(JOIN _wheel_nvidia_dirs ":" _wheel_rpath)
  target_link_options(semharness_torch INTERFACE "-Wl,--disable-new-dtags"
                      "-Wl,-rpath,${_torch_lib_dir}:${_wheel_rpath}")
endif()
