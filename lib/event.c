/*
 * event.c - parsing and checking journal events.
 */
#include "event.h"
#include "cjson.h"
#include "encode.h"

#include <string.h>
#include <time.h>

#include <openssl/rand.h>

int eakte_event__parse(eakte_ev *ev, const char *buf, size_t len)
{
	int64_t v, seq;
	int rc;

	memset(ev, 0, sizeof(*ev));
	if ((rc = eakte_cjson__parse_canonical(&ev->root, buf, len, EAKTE_EVENT_MAX)) < 0)
		return rc;
	if (!json_is_object(ev->root)) {
		rc = eakte_error__set(EAKTE_EINVALID, "event is not a JSON object");
		goto fail;
	}
	if ((rc = eakte_cjson__get_int(&v, ev->root, "v")) < 0)
		goto fail;
	if (v != EAKTE_EVENT_VERSION) {
		rc = eakte_error__set(EAKTE_EVERSION, "event format version %lld is not supported (expected %d)",
			(long long)v, EAKTE_EVENT_VERSION);
		goto fail;
	}
	if ((rc = eakte_cjson__get_int(&seq, ev->root, "seq")) < 0 ||
	    (rc = eakte_cjson__get_string(&ev->prev, ev->root, "prev")) < 0 ||
	    (rc = eakte_cjson__get_string(&ev->action, ev->root, "action")) < 0 ||
	    (rc = eakte_cjson__get_string(&ev->time, ev->root, "time")) < 0 ||
	    (rc = eakte_cjson__get_string(&ev->actor, ev->root, "actor")) < 0)
		goto fail;
	if (seq < 0) {
		rc = eakte_error__set(EAKTE_EINVALID, "event has a negative seq");
		goto fail;
	}
	ev->seq = (uint64_t)seq;
	if (strlen(ev->prev) != EAKTE_HASH_HEX_LEN) {
		rc = eakte_error__set(EAKTE_EINVALID, "event prev is not 64 hex digits");
		goto fail;
	}
	ev->subject = "";
	if (json_is_string(json_object_get(ev->root, "doc")))
		ev->subject = json_string_value(json_object_get(ev->root, "doc"));
	else if (json_is_string(json_object_get(ev->root, "akte")))
		ev->subject = json_string_value(json_object_get(ev->root, "akte"));
	return 0;
fail:
	eakte_event__free(ev);
	return rc;
}

void eakte_event__free(eakte_ev *ev)
{
	if (ev->root != NULL)
		json_decref(ev->root);
	memset(ev, 0, sizeof(*ev));
}

static int get_hex(uint8_t *out, size_t n, const json_t *obj, const char *key, const char *where)
{
	const char *s;
	int rc;

	if ((rc = eakte_cjson__get_string(&s, obj, key)) < 0)
		return eakte_error__wrap(rc, "%s", where);
	if ((rc = eakte_hex__decode(out, n, s, strlen(s))) < 0)
		return eakte_error__wrap(rc, "%s.%s", where, key);
	return 0;
}

int eakte_event__file_refs(eakte_ev_file *out, const eakte_ev *ev)
{
	const json_t *content, *meta;
	int64_t size;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = eakte_cjson__get_string(&out->doc, ev->root, "doc")) < 0 ||
	    (rc = eakte_cjson__get_int(&out->version, ev->root, "version")) < 0 ||
	    (rc = eakte_cjson__get_string(&out->akte, ev->root, "akte")) < 0 ||
	    (rc = eakte_cjson__get_object(&content, ev->root, "content")) < 0 ||
	    (rc = eakte_cjson__get_object(&meta, ev->root, "meta")) < 0 ||
	    (rc = get_hex(out->content_sha256, EAKTE_HASH_LEN, content, "sha256", "content")) < 0 ||
	    (rc = get_hex(out->content_oid, EAKTE_OID_LEN, content, "oid", "content")) < 0 ||
	    (rc = eakte_cjson__get_int(&size, content, "size")) < 0 ||
	    (rc = eakte_cjson__get_string(&out->mime, content, "mime")) < 0 ||
	    (rc = get_hex(out->meta_sha256, EAKTE_HASH_LEN, meta, "sha256", "meta")) < 0 ||
	    (rc = get_hex(out->meta_oid, EAKTE_OID_LEN, meta, "oid", "meta")) < 0)
		return eakte_error__wrap(rc, "file event %llu", (unsigned long long)ev->seq);
	if (!eakte_event__valid_doc_id(out->doc) || out->version < 1 || size < 0)
		return eakte_error__set(EAKTE_EINVALID, "file event %llu has a malformed doc, version or size",
			(unsigned long long)ev->seq);
	out->size = (uint64_t)size;
	return 0;
}

int eakte_event__valid_doc_id(const char *s)
{
	size_t i;

	if (strlen(s) != EAKTE_ID_LEN)
		return 0;
	for (i = 0; i < EAKTE_ID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return 0;
		}
	}
	return 1;
}

int eakte_event__new_doc_id(char out[EAKTE_ID_LEN + 1])
{
	uint8_t b[16];
	char hex[33];
	struct timespec ts;
	uint64_t ms;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return eakte_error__set(EAKTE_EIO, "cannot get random bytes for a document id");
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	/* UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version 7, variant 10. */
	b[0] = (uint8_t)(ms >> 40);
	b[1] = (uint8_t)(ms >> 32);
	b[2] = (uint8_t)(ms >> 24);
	b[3] = (uint8_t)(ms >> 16);
	b[4] = (uint8_t)(ms >> 8);
	b[5] = (uint8_t)ms;
	b[6] = (uint8_t)(0x70 | (b[6] & 0x0f));
	b[8] = (uint8_t)(0x80 | (b[8] & 0x3f));
	eakte_hex__encode(hex, b, sizeof(b));
	memcpy(out, hex, 8);
	out[8] = '-';
	memcpy(out + 9, hex + 8, 4);
	out[13] = '-';
	memcpy(out + 14, hex + 12, 4);
	out[18] = '-';
	memcpy(out + 19, hex + 16, 4);
	out[23] = '-';
	memcpy(out + 24, hex + 20, 12);
	out[36] = '\0';
	return 0;
}
