# cmake -DINPUT=file -DOUTPUT=out.cpp -DNAMESPACE=ns -DSYMBOL=name -P EmbedText.cmake:
# compiles a text file in as `extern const std::string_view ns::name` (the explorer's page
# template, the C exporter's kernels).
file(READ "${INPUT}" content)
string(FIND "${content}" ")tern_text\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )tern_text\"")
endif()
file(WRITE "${OUTPUT}" "// Generated from ${INPUT} by cmake/EmbedText.cmake: edit that file instead.\n"
                       "#include <string_view>\n\nnamespace ${NAMESPACE} {\n"
                       "extern const std::string_view ${SYMBOL};\n"
                       "const std::string_view ${SYMBOL} = R\"tern_text(${content})tern_text\";\n"
                       "} // namespace ${NAMESPACE}\n")
