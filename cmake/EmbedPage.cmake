# cmake -DINPUT=page.html -DOUTPUT=explore_page.cpp -P EmbedPage.cmake: the explorer's page
# template as tern::explore_page::page_template (sdk/src/explore/explore.cpp fills it in).
file(READ "${INPUT}" content)
string(FIND "${content}" ")tern_page\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )tern_page\"")
endif()
file(WRITE "${OUTPUT}" "// Generated from ${INPUT} by cmake/EmbedPage.cmake: edit that file instead.\n"
                       "#include <string_view>\n\nnamespace tern::explore_page {\n"
                       "extern const std::string_view page_template;\n"
                       "const std::string_view page_template = R\"tern_page(${content})tern_page\";\n"
                       "} // namespace tern::explore_page\n")
