/*
 * fuzz_cjson.c - the strict JSON parser and the canonical-JSON check
 * (lib/cjson.c) that every journal event and metadata object goes through.
 *
 * Properties: whatever eakte_cjson__parse() accepts, eakte_cjson__dump()
 * serialises, and that text is canonical (parse_canonical accepts it and
 * gives an equal value); whatever parse_canonical accepts is exactly the
 * dump of its value.
 */
#include "fuzz.h"
#include "cjson.h"

#include <string.h>

#define MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	json_t *v = NULL, *w = NULL;
	char *out = NULL;
	size_t len = 0;

	if (eakte_cjson__parse(&v, buf, size, MAX) == 0) {
		FUZZ_CHECK(v != NULL);
		FUZZ_CHECK(eakte_cjson__dump(&out, &len, v) == 0);
		FUZZ_CHECK(strlen(out) == len);
		FUZZ_CHECK(eakte_cjson__parse_canonical(&w, out, len, SIZE_MAX) == 0);
		FUZZ_CHECK(json_equal(v, w));
		json_decref(w);
		w = NULL;
		free(out);
		out = NULL;
		json_decref(v);
	} else {
		FUZZ_CHECK(v == NULL);
	}
	if (eakte_cjson__parse_canonical(&v, buf, size, MAX) == 0) {
		FUZZ_CHECK(eakte_cjson__dump(&out, &len, v) == 0);
		FUZZ_CHECK(len == size && memcmp(out, buf, size) == 0);
		free(out);
		json_decref(v);
	} else {
		FUZZ_CHECK(v == NULL);
	}
	return 0;
}
