# SPDX-License-Identifier: MIT
# Writes OUT (ext4pager_version.h) with the git commit of SRC, if SRC is a checkout; rewritten only
# when the text changes, so an unchanged tree rebuilds nothing. Runs at every build (see
# CMakeLists.txt), so --version names the commit the binary was built from.
set(commit "")
if(EXISTS "${SRC}/.git")
  execute_process(COMMAND git -C "${SRC}" describe --always --dirty --abbrev=12
    OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
set(text "#define EXT4PAGER_COMMIT \"${commit}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT "${old}" STREQUAL "${text}")
  file(WRITE "${OUT}" "${text}")
endif()
