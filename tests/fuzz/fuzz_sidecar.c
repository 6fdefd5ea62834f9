/*
 * fuzz_sidecar.c - a hotfolder document's sidecar NAME.json
 * (daemon/sidecar.c, sidecar_parse(): the part of sidecar_load() after
 * reading the file), which anyone who may write the hotfolder writes.
 *
 * Properties: on success every metadata item is "KEY=VALUE" with a key
 * of 1..128 characters, and the title, Akte and Vorgang are within their
 * limits; on failure the reasons are non-empty and *s is empty.
 */
#include "fuzz.h"
#include "sidecar.h"

#include <eakte/eakte.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char de[1400], en[1400];
	sidecar s;
	int rc;

	memset(&s, 0, sizeof(s));
	de[0] = en[0] = '\0';
	rc = sidecar_parse(&s, "scan.pdf.json", (const char *)data, size, de, en, sizeof(de));
	FUZZ_CHECK(rc == 0 || rc == -1 || rc == -2);
	if (rc < 0) {
		FUZZ_CHECK(de[0] != '\0' && en[0] != '\0');
		FUZZ_CHECK(s.title == NULL && s.akte == NULL && s.meta == NULL && s.nmeta == 0);
		return 0;
	}
	FUZZ_CHECK(s.title == NULL || (strlen(s.title) >= 1 && strlen(s.title) <= EAKTE_MAX_TITLE));
	FUZZ_CHECK(s.akte == NULL || (strlen(s.akte) >= 1 && strlen(s.akte) <= 256));
	FUZZ_CHECK(s.vorgang >= 0);
	for (size_t i = 0; i < s.nmeta; i++) {
		size_t k = strcspn(s.meta[i], "=");
		FUZZ_CHECK(s.meta[i][k] == '=' && k >= 1 && k <= EAKTE_MAX_META_KEY);
	}
	sidecar_free(&s);
	return 0;
}
