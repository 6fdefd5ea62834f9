/*
 * state.c - reading and encoding the current-state tree; see state.h.
 */
#include "state.h"
#include "cjson.h"
#include "encode.h"

#include <stdlib.h>
#include <string.h>

#define HEAD_JSON_MAX (64 * 1024)

int eakte_state__head_json(char **out, size_t *len, const char *origin,
	const uint8_t pub[EAKTE_ED25519_PUB_LEN], uint64_t size, const git_oid *head,
	const eakte_hash last_leaf, const eakte_merkle_range *range)
{
	char hex[EAKTE_HASH_HEX_LEN + 1], key[64], oid[GIT_OID_HEXSZ + 1];
	json_t *o = json_object(), *nodes = json_array();
	size_t i;
	int rc = 0;

	*out = NULL;
	if (o == NULL || nodes == NULL) {
		json_decref(o);
		json_decref(nodes);
		return eakte_error__oom("encoding head.json");
	}
	for (i = 0; i < range->count; i++) {
		eakte_hex__encode(hex, range->nodes[i], EAKTE_HASH_LEN);
		if (json_array_append_new(nodes, json_string(hex)) < 0)
			rc = EAKTE_ENOMEM;
	}
	eakte_base64__encode_to(key, pub, EAKTE_ED25519_PUB_LEN);
	eakte_hex__encode(hex, last_leaf, EAKTE_HASH_LEN);
	git_oid_tostr(oid, sizeof(oid), head);
	if (rc < 0 || json_object_set_new(o, "v", json_integer(1)) < 0 ||
	    json_object_set_new(o, "size", json_integer((json_int_t)size)) < 0 ||
	    json_object_set_new(o, "head", json_string(oid)) < 0 ||
	    json_object_set_new(o, "last_leaf", json_string(hex)) < 0 ||
	    json_object_set_new(o, "origin", json_string(origin)) < 0 ||
	    json_object_set_new(o, "key", json_string(key)) < 0 ||
	    json_object_set_new(o, "range", nodes) < 0) {
		json_decref(o);
		return eakte_error__oom("encoding head.json");
	}
	rc = eakte_cjson__dump(out, len, o);
	json_decref(o);
	return rc;
}

static int state_tree(git_tree **out, eakte_archive *a)
{
	git_commit *c = NULL;
	int rc = 0;

	*out = NULL;
	if (!a->has_state)
		return eakte_error__set(EAKTE_ENOTFOUND, "the archive has no state (%s)", EAKTE_STATE_REF);
	if (git_commit_lookup(&c, a->repo, &a->state_commit) < 0 || git_commit_tree(out, c) < 0)
		rc = eakte_archive__git_error(EAKTE_ECORRUPT, "reading the state tree");
	git_commit_free(c);
	return rc;
}

int eakte_state__entry(uint8_t oid[EAKTE_OID_LEN], eakte_archive *a, const char *path)
{
	git_tree *tree;
	git_tree_entry *e = NULL;
	int rc, grc;

	if ((rc = state_tree(&tree, a)) < 0)
		return rc;
	grc = git_tree_entry_bypath(&e, tree, path);
	if (grc == GIT_ENOTFOUND)
		rc = eakte_error__set(EAKTE_ENOTFOUND, "%s is not in the archive state", path);
	else if (grc < 0)
		rc = eakte_archive__git_error(EAKTE_ECORRUPT, "reading the state tree");
	else
		memcpy(oid, git_tree_entry_id(e)->id, EAKTE_OID_LEN);
	git_tree_entry_free(e);
	git_tree_free(tree);
	return rc;
}

int eakte_state__read(char **out, size_t *len, eakte_archive *a, const char *path, size_t max)
{
	uint8_t raw[EAKTE_OID_LEN];
	git_oid oid;
	git_blob *blob;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = eakte_state__entry(raw, a, path)) < 0)
		return rc;
	git_oid_fromraw(&oid, raw);
	if (git_blob_lookup(&blob, a->repo, &oid) < 0)
		return eakte_archive__git_error(EAKTE_ECORRUPT, "reading a state blob");
	if ((size_t)git_blob_rawsize(blob) > max) {
		git_blob_free(blob);
		return eakte_error__set(EAKTE_ECORRUPT, "state entry %s is larger than %zu bytes", path, max);
	}
	*len = (size_t)git_blob_rawsize(blob);
	*out = malloc(*len + 1);
	if (*out == NULL) {
		git_blob_free(blob);
		return eakte_error__oom("reading a state blob");
	}
	memcpy(*out, git_blob_rawcontent(blob), *len);
	(*out)[*len] = '\0';
	git_blob_free(blob);
	return 0;
}

int eakte_state__load(eakte_archive *a)
{
	git_oid sc;
	char *buf = NULL;
	size_t len, i;
	json_t *o = NULL, *nodes;
	const char *head, *leaf, *origin, *key;
	int64_t size;
	int rc, grc;

	grc = git_reference_name_to_id(&sc, a->repo, EAKTE_STATE_REF);
	if (grc == GIT_ENOTFOUND)
		return eakte_error__set(EAKTE_ENOTFOUND, "the archive has no state (%s)", EAKTE_STATE_REF);
	if (grc < 0)
		return eakte_archive__git_error(EAKTE_EIO, "reading " EAKTE_STATE_REF);
	git_oid_cpy(&a->state_commit, &sc);
	a->has_state = 1;
	if ((rc = eakte_state__read(&buf, &len, a, "head.json", HEAD_JSON_MAX)) < 0)
		return rc;
	if ((rc = eakte_cjson__parse(&o, buf, len, HEAD_JSON_MAX)) < 0)
		goto out;
	if ((rc = eakte_cjson__get_string(&head, o, "head")) < 0 ||
	    (rc = eakte_cjson__get_string(&leaf, o, "last_leaf")) < 0 ||
	    (rc = eakte_cjson__get_string(&origin, o, "origin")) < 0 ||
	    (rc = eakte_cjson__get_string(&key, o, "key")) < 0 ||
	    (rc = eakte_cjson__get_int(&size, o, "size")) < 0)
		goto bad;
	nodes = json_object_get(o, "range");
	if (size < 0 || !json_is_array(nodes) || json_array_size(nodes) > 64 ||
	    strlen(origin) >= sizeof(a->origin) || git_oid_fromstr(&a->head, head) < 0 ||
	    (rc = eakte_hex__decode(a->last_leaf, EAKTE_HASH_LEN, leaf, strlen(leaf))) < 0 ||
	    (rc = eakte_base64__decode_exact(a->pub, EAKTE_ED25519_PUB_LEN, key, strlen(key))) < 0) {
		if (rc == EAKTE_ENOMEM)
			goto out;   /* not the file's fault: the message says what ran out */
		rc = EAKTE_ECORRUPT;
		goto bad;
	}
	a->size = (uint64_t)size;
	a->state_size = a->size;
	strcpy(a->origin, origin);
	memset(&a->range, 0, sizeof(a->range));
	a->range.size = a->size;
	a->range.count = json_array_size(nodes);
	for (i = 0; i < a->range.count; i++) {
		const char *h = json_string_value(json_array_get(nodes, i));
		if (h == NULL || eakte_hex__decode(a->range.nodes[i], EAKTE_HASH_LEN, h, strlen(h)) < 0) {
			rc = EAKTE_ECORRUPT;
			goto bad;
		}
	}
	if ((unsigned)__builtin_popcountll(a->size) != a->range.count) {
		rc = EAKTE_ECORRUPT;
		goto bad;
	}
	goto out;
bad:
	rc = eakte_error__set(EAKTE_ECORRUPT, "the state's head.json is malformed; run `eakte verify`");
out:
	json_decref(o);
	free(buf);
	return rc;
}

typedef struct {
	eakte_state_doc_cb cb;
	void *payload;
	int rc;
} walk_ctx;

static int walk_cb(const char *root, const git_tree_entry *e, void *payload)
{
	walk_ctx *w = payload;
	const char *name = git_tree_entry_name(e);
	char doc[EAKTE_ID_LEN + 1];
	const char *slash;
	char *end;
	long long version;

	if (strncmp(root, "docs/", 5) != 0 || git_tree_entry_type(e) != GIT_OBJECT_BLOB)
		return 0;
	/* root is "docs/<xx>/<yy>/<doc>/" */
	slash = strchr(root + 5, '/');
	if (slash != NULL)
		slash = strchr(slash + 1, '/');
	if (slash == NULL || strlen(slash + 1) != EAKTE_ID_LEN + 1)
		return 0;
	memcpy(doc, slash + 1, EAKTE_ID_LEN);
	doc[EAKTE_ID_LEN] = '\0';
	version = strtoll(name, &end, 10);
	if (*end != '.' || version < 1)
		return 0;
	w->rc = w->cb(doc, version, end + 1, git_tree_entry_id(e)->id, w->payload);
	return w->rc != 0 ? -1 : 0;
}

int eakte_state__foreach_doc(eakte_archive *a, eakte_state_doc_cb cb, void *payload)
{
	git_tree *tree;
	walk_ctx w = { cb, payload, 0 };
	int rc, grc;

	if ((rc = state_tree(&tree, a)) < 0)
		return rc;
	grc = git_tree_walk(tree, GIT_TREEWALK_PRE, walk_cb, &w);
	git_tree_free(tree);
	if (w.rc != 0)
		return w.rc;
	if (grc < 0)
		return eakte_archive__git_error(EAKTE_ECORRUPT, "walking the state tree");
	return 0;
}
