# sw_module(NAME [DEPS ...]): a static library from every .cpp in userspace/NAME.
# Headers are included as "NAME/file.hpp" relative to userspace/.
function(sw_module name)
  cmake_parse_arguments(M "" "" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/userspace/${name}/*.cpp)
  if(srcs)
    add_library(sw_${name} STATIC ${srcs})
    target_include_directories(sw_${name} PUBLIC ${PROJECT_SOURCE_DIR}/userspace)
    target_link_libraries(sw_${name} PUBLIC ${M_DEPS})
  else()
    # Header-only (or not yet written) module.
    add_library(sw_${name} INTERFACE)
    target_include_directories(sw_${name} INTERFACE ${PROJECT_SOURCE_DIR}/userspace)
    target_link_libraries(sw_${name} INTERFACE ${M_DEPS})
  endif()
  set_property(GLOBAL APPEND PROPERTY SW_MODULES sw_${name})
endfunction()
