# onepath_add_plugin(NAME SOURCE...): a native onepath plugin, the shared object NAME.so,
# built against the SDK headers only (onepath::sdk). Only its manifest function is
# exported; everything else stays inside it. Used in onepath's own tree and, installed,
# by find_package(onepath).
function(onepath_add_plugin name)
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE onepath::sdk)
  set_target_properties(${name} PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden
                                           VISIBILITY_INLINES_HIDDEN ON)
  if(ONEPATH_PLUGIN_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ONEPATH_PLUGIN_OUTPUT_DIR})
  endif()
  set(build_id "${PROJECT_NAME}-${PROJECT_VERSION}")
  if(ONEPATH_PLUGIN_BUILD_ID)
    set(build_id "${ONEPATH_PLUGIN_BUILD_ID}")
  endif()
  target_compile_definitions(${name} PRIVATE ONEPATH_BUILD_ID="${build_id}")
  get_property(languages GLOBAL PROPERTY ENABLED_LANGUAGES)
  if("C" IN_LIST languages)
    target_link_libraries(${name} PRIVATE m)  # libm for C plugins
  endif()
endfunction()
