/*
 * fuzz_event.c - journal event bytes (lib/event.c): eakte_event__parse()
 * as verify, replay and proof checking call it, then the references of a
 * "file" event.
 *
 * Properties: an accepted event has the common fields as strings, a prev
 * of 64 characters, and a subject that is never NULL.
 */
#include "fuzz.h"
#include "event.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eakte_ev ev;
	eakte_ev_file f;

	if (eakte_event__parse(&ev, (const char *)data, size) != 0) {
		FUZZ_CHECK(ev.root == NULL);
		return 0;
	}
	FUZZ_CHECK(ev.prev != NULL && ev.action != NULL && ev.time != NULL && ev.actor != NULL);
	FUZZ_CHECK(strlen(ev.prev) == EAKTE_HASH_HEX_LEN);
	FUZZ_CHECK(ev.subject != NULL);
	(void)eakte_event__valid_doc_id(ev.subject);
	if (eakte_event__file_refs(&f, &ev) == 0)
		FUZZ_CHECK(eakte_event__valid_doc_id(f.doc) && f.version >= 1 && f.akte != NULL && f.mime != NULL);
	eakte_event__free(&ev);
	FUZZ_CHECK(ev.root == NULL);
	return 0;
}
