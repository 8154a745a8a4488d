# Satisfies prometheus-cpp-config.cmake's find_dependency(CURL) on the GPU machine, where libcurl's
# closure is not unpacked (deploy/gpu/gather-debs.sh leaves it out): only prometheus-cpp's push
# library needs curl, and cyclr links core and pull only. The target fails any link that uses it.
set(CURL_FOUND TRUE)
set(CURL_VERSION_STRING "0-stub")
if(NOT TARGET CURL::libcurl)
  add_library(CURL::libcurl INTERFACE IMPORTED)
  set_target_properties(CURL::libcurl PROPERTIES
    INTERFACE_LINK_LIBRARIES "cyclr-gpu-stub-curl-is-not-available")
endif()
