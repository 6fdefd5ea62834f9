/*
 * Third-party vectors for lib/merkle.c; argv[1] is the vectors directory.
 *
 * rfc6962.json: the RFC 6962 known answers from certificate-transparency
 * and trillian (roots, node hashes, audit paths, consistency proofs) and
 * the derived tables of every proof for sizes 1..8.  Our generators must
 * reproduce each proof and our verifiers must accept it.
 *
 * transparency-dev-merkle/testdata/{inclusion,consistency}/, every .json
 * below them: one probe each, its "wantErr" saying whether it must fail.
 * Their hashes are base64 byte strings of any length, which our API (fixed
 * 32-byte hashes) cannot always carry:
 *  - a leaf hash that is not 32 bytes is rejected before verification, as
 *    transparency-dev/merkle rejects it (rfc6962.json semantics_notes);
 *  - roots and proof hashes are opaque bytes there, only compared or
 *    concatenated, so one that is not 32 bytes is replaced by a stand-in,
 *    SHA-256(0x02 || bytes): equal for equal bytes, and (outside the leaf
 *    and node domains) never equal to a real tree hash.  The probe then
 *    still reaches the verifier's size and length checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "encode.h"
#include "merkle.h"

static const char *vectors_dir;

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len = -1;

	if (f == NULL) {
		fail_msg("cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0)
		len = ftell(f);
	if (len < 0 || fseek(f, 0, SEEK_SET) != 0)
		fail_msg("cannot size %s", path);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	if (fread(buf, 1, (size_t)len, f) != (size_t)len)
		fail_msg("cannot read %s", path);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static json_t *parse(const char *path, const char *text, size_t flags)
{
	json_error_t err;
	json_t *v = json_loads(text, flags, &err);

	if (v == NULL)
		fail_msg("%s:%d: %s", path, err.line, err.text);
	return v;
}

/*
 * jansson's integers are signed 64-bit but the probes use sizes up to
 * 2^64 - 1 (leafIdx = 0 - 1), so probe files are decoded with integers as
 * reals and each size is read again exactly from the text.  The real must
 * agree with the exact value, which catches a scan that found the wrong
 * spot.
 */
static uint64_t exact_uint(const char *path, const char *text, const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	char quoted[64];
	const char *p, *at = NULL;
	unsigned long long u;
	char *end;

	if (!json_is_number(v))
		fail_msg("%s: \"%s\" is missing or not a number", path, key);
	snprintf(quoted, sizeof(quoted), "\"%s\"", key);
	for (p = strstr(text, quoted); p != NULL; p = strstr(p + 1, quoted)) {
		const char *q = p + strlen(quoted);
		while (isspace((unsigned char)*q))
			q++;
		if (*q != ':')
			continue;
		if (at != NULL)
			fail_msg("%s: \"%s\" appears twice", path, key);
		for (q++; isspace((unsigned char)*q); q++)
			;
		at = q;
	}
	if (at == NULL || !isdigit((unsigned char)*at))
		fail_msg("%s: \"%s\" is not a non-negative integer", path, key);
	errno = 0;
	u = strtoull(at, &end, 10);
	if (errno != 0 || (*end != ',' && *end != '}' && !isspace((unsigned char)*end)))
		fail_msg("%s: \"%s\" is not an integer below 2^64", path, key);
	if ((double)u != json_number_value(v))
		fail_msg("%s: \"%s\" read as %llu from the text but %.17g by jansson", path, key, u, json_number_value(v));
	return (uint64_t)u;
}

static void hex_hash(eakte_hash out, const json_t *s)
{
	if (!json_is_string(s) || eakte_hex__decode(out, 32, json_string_value(s), json_string_length(s)) != 0)
		fail_msg("rfc6962.json: expected a 64-digit hex hash");
}

/* ---- rfc6962.json ---------------------------------------------------- */

static eakte_hash kat_leaves[8];

static void check_kat_inclusion(const json_t *v, bool sourced)
{
	const json_t *ap = json_object_get(v, "audit_path");
	uint64_t index = (uint64_t)json_integer_value(json_object_get(v, "leaf_index"));
	uint64_t size = (uint64_t)json_integer_value(json_object_get(v, "tree_size"));
	size_t count = json_array_size(ap), k, got_count;
	eakte_hash want[8], leaf, root, *got;

	assert_true(size >= 1 && size <= 8 && index < size && count <= 8);
	if (sourced) {
		/* CT's C++ tests number leaves from 1; leaf_index is that minus 1 */
		assert_int_equal(json_integer_value(json_object_get(v, "leaf_number_1based")), (json_int_t)index + 1);
	}
	for (k = 0; k < count; k++)
		hex_hash(want[k], json_array_get(ap, k));
	hex_hash(leaf, json_object_get(v, "leaf_hash"));
	hex_hash(root, json_object_get(v, "root"));
	assert_memory_equal(leaf, kat_leaves[index], 32);

	assert_int_equal(eakte_merkle__inclusion_proof(&got, &got_count, (const eakte_hash *)kat_leaves, size, index), 0);
	assert_int_equal(got_count, count);
	if (count > 0)
		assert_memory_equal(got, want, count * 32);
	free(got);
	assert_int_equal(eakte_merkle__verify_inclusion(leaf, index, size, (const eakte_hash *)want, count, root), 0);
	if (count > 0) {
		want[count - 1][0] ^= 1;
		assert_int_equal(eakte_merkle__verify_inclusion(leaf, index, size, (const eakte_hash *)want, count, root), EAKTE_EVERIFY);
	}
}

static void check_kat_consistency(const json_t *v)
{
	const json_t *pr = json_object_get(v, "proof");
	uint64_t size1 = (uint64_t)json_integer_value(json_object_get(v, "size1"));
	uint64_t size2 = (uint64_t)json_integer_value(json_object_get(v, "size2"));
	size_t count = json_array_size(pr), k, got_count;
	eakte_hash want[8], r1, r2, *got;

	assert_true(size1 >= 1 && size1 <= size2 && size2 <= 8 && count <= 8);
	for (k = 0; k < count; k++)
		hex_hash(want[k], json_array_get(pr, k));
	hex_hash(r1, json_object_get(v, "root1"));
	hex_hash(r2, json_object_get(v, "root2"));

	assert_int_equal(eakte_merkle__consistency_proof(&got, &got_count, (const eakte_hash *)kat_leaves, size1, size2), 0);
	assert_int_equal(got_count, count);
	if (count > 0)
		assert_memory_equal(got, want, count * 32);
	free(got);
	assert_int_equal(eakte_merkle__verify_consistency(size1, size2, (const eakte_hash *)want, count, r1, r2), 0);
	if (count > 0) {
		want[0][31] ^= 1;
		assert_int_equal(eakte_merkle__verify_consistency(size1, size2, (const eakte_hash *)want, count, r1, r2), EAKTE_EVERIFY);
	}
}

static void test_rfc6962(void **state)
{
	char path[4096], *text;
	json_t *d, *sourced, *derived, *v, *level;
	eakte_hash h, want;
	size_t i, j, checked = 0;
	const char *key;

	(void)state;
	snprintf(path, sizeof(path), "%s/rfc6962.json", vectors_dir);
	text = read_text(path);
	d = parse(path, text, 0);
	sourced = json_object_get(d, "sourced");
	derived = json_object_get(d, "derived");

	v = json_object_get(d, "leaf_inputs_hex");
	assert_int_equal(json_array_size(v), 8);
	for (i = 0; i < 8; i++) {
		const json_t *s = json_array_get(v, i);
		size_t len = json_string_length(s) / 2;
		uint8_t *buf = malloc(len + 1);

		assert_non_null(buf);
		assert_int_equal(eakte_hex__decode(buf, len, json_string_value(s), json_string_length(s)), 0);
		eakte_merkle__leaf_hash(kat_leaves[i], buf, len);
		free(buf);
	}

	hex_hash(want, json_object_get(d, "empty_tree_root"));
	eakte_merkle__root(h, NULL, 0);
	assert_memory_equal(h, want, 32);
	checked++;

	/* Level l, position i is the perfect subtree over leaves [i*2^l, (i+1)*2^l). */
	json_object_foreach(json_object_get(sourced, "node_hashes_by_level"), key, level) {
		uint64_t l = strtoull(key, NULL, 10), width = UINT64_C(1) << l;

		assert_true(l <= 3 && json_array_size(level) == 8 / width);
		json_array_foreach(level, j, v) {
			hex_hash(want, v);
			eakte_merkle__root(h, (const eakte_hash *)kat_leaves + j * width, width);
			assert_memory_equal(h, want, 32);
			checked++;
		}
	}
	json_object_foreach(json_object_get(sourced, "root_hashes_by_tree_size"), key, v) {
		uint64_t n = strtoull(key, NULL, 10);
		eakte_merkle_range r;

		assert_true(n <= 8);
		hex_hash(want, v);
		eakte_merkle__root(h, (const eakte_hash *)kat_leaves, n);
		assert_memory_equal(h, want, 32);
		eakte_merkle__range_init(&r);
		for (i = 0; i < n; i++)
			eakte_merkle__range_append(&r, kat_leaves[i]);
		eakte_merkle__range_root(&r, h);
		assert_memory_equal(h, want, 32);
		checked++;
	}
	assert_int_equal(json_object_size(json_object_get(sourced, "root_hashes_by_tree_size")), 9);

	assert_int_equal(json_array_size(json_object_get(sourced, "inclusion_proofs")), 5);
	json_array_foreach(json_object_get(sourced, "inclusion_proofs"), i, v) {
		check_kat_inclusion(v, true);
		checked++;
	}
	assert_int_equal(json_array_size(json_object_get(sourced, "consistency_proofs")), 5);
	json_array_foreach(json_object_get(sourced, "consistency_proofs"), i, v) {
		check_kat_consistency(v);
		checked++;
	}
	/* every (index, size) and every (size1, size2) for sizes 1..8 */
	assert_int_equal(json_array_size(json_object_get(derived, "inclusion_proofs")), 36);
	json_array_foreach(json_object_get(derived, "inclusion_proofs"), i, v) {
		check_kat_inclusion(v, false);
		checked++;
	}
	assert_int_equal(json_array_size(json_object_get(derived, "consistency_proofs")), 36);
	json_array_foreach(json_object_get(derived, "consistency_proofs"), i, v) {
		check_kat_consistency(v);
		checked++;
	}
	print_message("rfc6962.json: %zu known answers reproduced\n", checked);
	json_decref(d);
	free(text);
}

/* ---- transparency-dev/merkle probes ---------------------------------- */

typedef struct {
	size_t ran, want_pass, want_fail, leaf_rejected, stand_ins, mismatched;
} tally;

/* Decode a base64 hash of any length into out (stand-in if not 32 bytes).
 * Returns 1 if it was 32 bytes, 0 if a stand-in was used. */
static int any_hash(eakte_hash out, const char *path, const json_t *s)
{
	uint8_t *raw = NULL, *buf;
	size_t len = 0;
	int exact;

	if (!json_is_string(s) || eakte_base64__decode(&raw, &len, json_string_value(s), json_string_length(s)) != 0)
		fail_msg("%s: a hash is not a base64 string", path);
	exact = len == 32;
	if (exact) {
		memcpy(out, raw, 32);
	} else {
		buf = malloc(len + 1);
		assert_non_null(buf);
		buf[0] = 0x02;
		if (len > 0)
			memcpy(buf + 1, raw, len);
		assert_int_equal(EVP_Digest(buf, len + 1, out, NULL, EVP_sha256(), NULL), 1);
		free(buf);
	}
	free(raw);
	return exact;
}

/* The proof array (null means empty) as 32-byte hashes; *stand_ins counts substitutes. */
static eakte_hash *read_proof(const char *path, const json_t *proof, size_t *count, size_t *stand_ins)
{
	eakte_hash *hashes;
	size_t i;

	if (!json_is_null(proof) && !json_is_array(proof))
		fail_msg("%s: \"proof\" is neither null nor an array", path);
	*count = json_array_size(proof);
	hashes = malloc((*count + 1) * sizeof(eakte_hash));
	assert_non_null(hashes);
	for (i = 0; i < *count; i++)
		*stand_ins += !any_hash(hashes[i], path, json_array_get(proof, i));
	return hashes;
}

static bool want_error(const char *path, const json_t *probe)
{
	const json_t *w = json_object_get(probe, "wantErr");

	if (!json_is_boolean(w))
		fail_msg("%s: \"wantErr\" is missing or not a boolean", path);
	return json_is_true(w);
}

static void record(tally *t, const char *path, const json_t *probe, bool want_err, int rc, const char *why)
{
	t->ran++;
	if (want_err)
		t->want_fail++;
	else
		t->want_pass++;
	if ((rc != 0) != want_err) {
		t->mismatched++;
		print_error("%s (\"%s\"): wantErr %s, but %s\n", path, json_string_value(json_object_get(probe, "desc")),
			want_err ? "true" : "false", rc == 0 ? "it verified" : why);
	}
}

static void probe_inclusion(const char *path, tally *t)
{
	char *text = read_text(path);
	json_t *probe = parse(path, text, JSON_DECODE_INT_AS_REAL);
	bool want_err = want_error(path, probe);
	uint64_t index = exact_uint(path, text, probe, "leafIdx");
	uint64_t size = exact_uint(path, text, probe, "treeSize");
	const json_t *leaf_json = json_object_get(probe, "leafHash");
	eakte_hash leaf, root, *proof;
	size_t count, stand_ins = 0;
	int rc;

	t->stand_ins += !any_hash(root, path, json_object_get(probe, "root"));
	proof = read_proof(path, json_object_get(probe, "proof"), &count, &stand_ins);
	t->stand_ins += stand_ins;
	if (!json_is_string(leaf_json) ||
	    eakte_base64__decode_exact(leaf, 32, json_string_value(leaf_json), json_string_length(leaf_json)) != 0) {
		t->leaf_rejected++;
		record(t, path, probe, want_err, EAKTE_EINVALID, "its leaf hash is not 32 bytes");
	} else {
		rc = eakte_merkle__verify_inclusion(leaf, index, size, (const eakte_hash *)proof, count, root);
		record(t, path, probe, want_err, rc, eakte_error_last());
	}
	free(proof);
	json_decref(probe);
	free(text);
}

static void probe_consistency(const char *path, tally *t)
{
	char *text = read_text(path);
	json_t *probe = parse(path, text, JSON_DECODE_INT_AS_REAL);
	bool want_err = want_error(path, probe);
	uint64_t size1 = exact_uint(path, text, probe, "size1");
	uint64_t size2 = exact_uint(path, text, probe, "size2");
	eakte_hash root1, root2, *proof;
	size_t count, stand_ins = 0;
	int rc;

	t->stand_ins += !any_hash(root1, path, json_object_get(probe, "root1"));
	t->stand_ins += !any_hash(root2, path, json_object_get(probe, "root2"));
	proof = read_proof(path, json_object_get(probe, "proof"), &count, &stand_ins);
	t->stand_ins += stand_ins;
	rc = eakte_merkle__verify_consistency(size1, size2, (const eakte_hash *)proof, count, root1, root2);
	record(t, path, probe, want_err, rc, eakte_error_last());
	free(proof);
	json_decref(probe);
	free(text);
}

static int visible(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

/* Every *.json below dir, in name order so that failures read the same each run. */
static void walk(const char *dir, void (*probe)(const char *, tally *), tally *t)
{
	struct dirent **names;
	int n, i;

	n = scandir(dir, &names, visible, alphasort);
	if (n < 0)
		fail_msg("cannot list %s: %s", dir, strerror(errno));
	for (i = 0; i < n; i++) {
		char sub[4096];
		size_t len = strlen(names[i]->d_name);
		struct stat st;

		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, names[i]->d_name) >= sizeof(sub))
			fail_msg("path too long under %s", dir);
		if (stat(sub, &st) != 0)
			fail_msg("cannot stat %s: %s", sub, strerror(errno));
		if (S_ISDIR(st.st_mode))
			walk(sub, probe, t);
		else if (len > 5 && strcmp(names[i]->d_name + len - 5, ".json") == 0)
			probe(sub, t);
		free(names[i]);
	}
	free(names);
}

static void run_probes(const char *kind, void (*probe)(const char *, tally *))
{
	char dir[4096];
	tally t = { 0, 0, 0, 0, 0, 0 };

	snprintf(dir, sizeof(dir), "%s/transparency-dev-merkle/testdata/%s", vectors_dir, kind);
	walk(dir, probe, &t);
	print_message("transparency-dev %s: %zu probes, %zu must verify and %zu must fail "
		"(%zu with a leaf hash that is not 32 bytes, %zu stand-in hashes): %zu disagreements\n",
		kind, t.ran, t.want_pass, t.want_fail, t.leaf_rejected, t.stand_ins, t.mismatched);
	/* A missing or emptied directory must not pass as "no disagreements". */
	if (t.want_pass == 0 || t.want_fail == 0)
		fail_msg("%s: found %zu probes that must verify and %zu that must fail; expected some of each",
			dir, t.want_pass, t.want_fail);
	assert_int_equal(t.mismatched, 0);
}

static void test_transparency_dev_inclusion(void **state)
{
	(void)state;
	run_probes("inclusion", probe_inclusion);
}

static void test_transparency_dev_consistency(void **state)
{
	(void)state;
	run_probes("consistency", probe_consistency);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6962),
		cmocka_unit_test(test_transparency_dev_inclusion),
		cmocka_unit_test(test_transparency_dev_consistency),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s VECTORS_DIR\n", argv[0]);
		return 2;
	}
	vectors_dir = argv[1];
	return cmocka_run_group_tests_name("vectors_merkle", tests, NULL, NULL);
}
