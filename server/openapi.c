/*
 * openapi.c - docs/openapi.json, the OpenAPI 3.0 description of the HTTP
 * API, built into the server so that GET /openapi.json serves the very
 * document that docs/ holds and the tests validate (one file, no copy to
 * drift).  The assembler includes the file's bytes as they are
 * (.incbin, relative to the directory make runs in, the top of the tree;
 * the Makefile makes this object depend on the file).
 */
__asm__(".section .rodata\n"
        ".global sx_openapi_json\n"
        ".type sx_openapi_json, @object\n"
        ".balign 16\n"
        "sx_openapi_json:\n"
        ".incbin \"docs/openapi.json\"\n"
        "sx_openapi_json_end:\n"
        ".byte 0\n"
        ".global sx_openapi_json_len\n"
        ".type sx_openapi_json_len, @object\n"
        ".balign 4\n"
        "sx_openapi_json_len:\n"
        ".long sx_openapi_json_end - sx_openapi_json\n"
        ".previous\n");
