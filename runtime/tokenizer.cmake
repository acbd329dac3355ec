# The tokenizer (tokenizer.json BPE: byte-level and sentencepiece-style), included from
# runtime/CMakeLists.txt.
# PCRE2 compiles the pre-tokenizer regexes; utf8proc gives NFC (Qwen2/3's normalizer)
# and Unicode categories. Both are private: tokenizer.h exposes neither.
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
target_sources(mk_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/src/tokenizer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/tokenizer_added.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/tokenizer_bpe.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/tokenizer_decode.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/tokenizer_load.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/tokenizer_load_pipeline.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/tokenizer_normalize.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/tokenizer_pretokenize.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/tokenizer_regex.cpp
  ${CMAKE_CURRENT_LIST_DIR}/src/tokenizer_unicode.cpp)
target_link_libraries(mk_runtime PRIVATE PkgConfig::PCRE2 PkgConfig::UTF8PROC)
