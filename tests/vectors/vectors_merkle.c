/* Third-party vectors for lib/merkle.c: RFC 6962 known answers (sourced
 * from certificate-transparency and trillian, and the derived full tables)
 * and every transparency-dev/merkle inclusion and consistency probe,
 * including the must-fail mutations.  argv[1] is the vectors directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "encode.h"
#include "merkle.h"

static const char *dir;

static json_t *load_flags(const char *path, size_t flags)
{
	json_error_t err;
	json_t *v = json_load_file(path, flags, &err);

	if (v == NULL)
		fail_msg("cannot read %s: %s", path, err.text);
	return v;
}

static json_t *load(const char *path)
{
	return load_flags(path, 0);
}

/* The probes use sizes up to 2^64-1, beyond jansson's integers: read them
 * as doubles (exact below 2^53; larger values are out of range for any
 * real tree, and are passed on as UINT64_MAX). */
static uint64_t big(const json_t *v, int *ok)
{
	double d = json_number_value(v);

	if (!json_is_number(v) || d < 0) {
		*ok = 0;
		return 0;
	}
	if (d >= 18446744073709551615.0)
		return UINT64_MAX;
	return (uint64_t)d;
}

static void hex32(eakte_hash out, const json_t *s)
{
	assert_true(json_is_string(s));
	assert_int_equal(eakte_hex__decode(out, 32, json_string_value(s), json_string_length(s)), 0);
}

/* Decode base64; returns 0 and sets ok=0 if it is not a 32-byte hash. */
static int b64_32(eakte_hash out, const json_t *s)
{
	return json_is_string(s) &&
		eakte_base64__decode_exact(out, 32, json_string_value(s), json_string_length(s)) == 0;
}

static void test_rfc6962(void **state)
{
	char path[4096];
	json_t *d, *sourced, *derived, *inputs, *roots, *v;
	eakte_hash leaves[8], h, root;
	size_t i, n_checked = 0;
	const char *key;
	int pass;

	(void)state;
	snprintf(path, sizeof(path), "%s/rfc6962.json", dir);
	d = load(path);
	inputs = json_object_get(d, "leaf_inputs_hex");
	assert_int_equal(json_array_size(inputs), 8);
	for (i = 0; i < 8; i++) {
		const char *hx = json_string_value(json_array_get(inputs, i));
		uint8_t buf[64];
		size_t n = strlen(hx) / 2;
		assert_int_equal(eakte_hex__decode(buf, n, hx, strlen(hx)), 0);
		eakte_merkle__leaf_hash(leaves[i], buf, n);
	}
	sourced = json_object_get(d, "sourced");
	derived = json_object_get(d, "derived");
	/* leaf hashes = level 0 node hashes */
	v = json_object_get(json_object_get(sourced, "node_hashes_by_level"), "0");
	for (i = 0; i < 8; i++) {
		hex32(h, json_array_get(v, i));
		assert_memory_equal(h, leaves[i], 32);
		n_checked++;
	}
	roots = json_object_get(sourced, "root_hashes_by_tree_size");
	json_object_foreach(roots, key, v) {
		uint64_t n = strtoull(key, NULL, 10);
		hex32(h, v);
		eakte_merkle__root(root, (const eakte_hash *)leaves, n);
		assert_memory_equal(root, h, 32);
		n_checked++;
	}
	for (pass = 0; pass < 2; pass++) {
		json_t *set = pass == 0 ? sourced : derived;
		json_t *incl = json_object_get(set, "inclusion_proofs"), *cons = json_object_get(set, "consistency_proofs");
		size_t j;

		assert_true(json_array_size(incl) > 0 && json_array_size(cons) > 0);
		json_array_foreach(incl, j, v) {
			uint64_t idx = (uint64_t)json_integer_value(json_object_get(v, "leaf_index"));
			uint64_t size = (uint64_t)json_integer_value(json_object_get(v, "tree_size"));
			json_t *ap = json_object_get(v, "audit_path");
			size_t count = json_array_size(ap), k;
			eakte_hash want[16], *got;
			size_t got_count;

			for (k = 0; k < count; k++)
				hex32(want[k], json_array_get(ap, k));
			hex32(root, json_object_get(v, "root"));
			hex32(h, json_object_get(v, "leaf_hash"));
			assert_int_equal(eakte_merkle__inclusion_proof(&got, &got_count, (const eakte_hash *)leaves, size, idx), 0);
			assert_int_equal(got_count, count);
			if (count)
				assert_memory_equal(got, want, count * 32);
			free(got);
			assert_int_equal(eakte_merkle__verify_inclusion(h, idx, size, (const eakte_hash *)want, count, root), 0);
			n_checked++;
		}
		json_array_foreach(cons, j, v) {
			uint64_t s1 = (uint64_t)json_integer_value(json_object_get(v, "size1"));
			uint64_t s2 = (uint64_t)json_integer_value(json_object_get(v, "size2"));
			json_t *pr = json_object_get(v, "proof");
			size_t count = json_array_size(pr), k, got_count;
			eakte_hash want[16], r1, r2, *got;

			for (k = 0; k < count; k++)
				hex32(want[k], json_array_get(pr, k));
			hex32(r1, json_object_get(v, "root1"));
			hex32(r2, json_object_get(v, "root2"));
			assert_int_equal(eakte_merkle__consistency_proof(&got, &got_count, (const eakte_hash *)leaves, s1, s2), 0);
			assert_int_equal(got_count, count);
			if (count)
				assert_memory_equal(got, want, count * 32);
			free(got);
			assert_int_equal(eakte_merkle__verify_consistency(s1, s2, (const eakte_hash *)want, count, r1, r2), 0);
			n_checked++;
		}
	}
	print_message("rfc6962.json: %zu known answers checked\n", n_checked);
	assert_true(n_checked > 80);
	json_decref(d);
}

typedef struct {
	size_t ran, must_fail, mismatched;
} tally;

static void probe_inclusion(const char *path, tally *t)
{
	json_t *v = load_flags(path, JSON_DECODE_INT_AS_REAL), *proof = json_object_get(v, "proof");
	int want_err = json_is_true(json_object_get(v, "wantErr"));
	int ok = 1, rc;
	uint64_t idx = big(json_object_get(v, "leafIdx"), &ok);
	uint64_t size = big(json_object_get(v, "treeSize"), &ok);
	eakte_hash leaf, root, hashes[80];
	size_t i, count = json_array_size(proof);

	ok &= b64_32(leaf, json_object_get(v, "leafHash"));
	ok &= b64_32(root, json_object_get(v, "root"));
	ok &= count <= 80;
	for (i = 0; ok && i < count; i++)
		ok &= b64_32(hashes[i], json_array_get(proof, i));
	rc = ok ? eakte_merkle__verify_inclusion(leaf, idx, size, (const eakte_hash *)hashes, count, root) : -1;
	if ((rc != 0) != want_err) {
		t->mismatched++;
		print_error("%s: wantErr=%d but verification %s\n", path, want_err, rc == 0 ? "passed" : "failed");
	}
	t->ran++;
	t->must_fail += (size_t)want_err;
	json_decref(v);
}

/* A consistency probe compares roots only for equality; a few probes use
 * placeholder roots that are not 32 bytes ("don't care"), so those are
 * mapped to their SHA-256, which keeps equal roots equal and different
 * roots different. */
static int root_any(eakte_hash out, const json_t *s)
{
	uint8_t *raw;
	size_t len;

	if (!json_is_string(s) || eakte_base64__decode(&raw, &len, json_string_value(s), json_string_length(s)) < 0)
		return 0;
	if (len == 32)
		memcpy(out, raw, 32);
	else
		eakte_merkle__leaf_hash(out, raw, len);
	free(raw);
	return 1;
}

static void probe_consistency(const char *path, tally *t)
{
	json_t *v = load_flags(path, JSON_DECODE_INT_AS_REAL), *proof = json_object_get(v, "proof");
	int want_err = json_is_true(json_object_get(v, "wantErr"));
	int ok = 1, rc;
	uint64_t s1 = big(json_object_get(v, "size1"), &ok);
	uint64_t s2 = big(json_object_get(v, "size2"), &ok);
	eakte_hash r1, r2, hashes[80];
	size_t i, count = json_array_size(proof);

	ok &= root_any(r1, json_object_get(v, "root1"));
	ok &= root_any(r2, json_object_get(v, "root2"));
	ok &= count <= 80;
	for (i = 0; ok && i < count; i++)
		ok &= b64_32(hashes[i], json_array_get(proof, i));
	rc = ok ? eakte_merkle__verify_consistency(s1, s2, (const eakte_hash *)hashes, count, r1, r2) : -1;
	if ((rc != 0) != want_err) {
		t->mismatched++;
		print_error("%s: wantErr=%d but verification %s\n", path, want_err, rc == 0 ? "passed" : "failed");
	}
	t->ran++;
	t->must_fail += (size_t)want_err;
	json_decref(v);
}

static void walk(const char *path, void (*fn)(const char *, tally *), tally *t)
{
	DIR *d = opendir(path);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char sub[4096];
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (stat(sub, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			walk(sub, fn, t);
		else if (strlen(e->d_name) > 5 && strcmp(e->d_name + strlen(e->d_name) - 5, ".json") == 0)
			fn(sub, t);
	}
	closedir(d);
}

static void test_transparency_dev(void **state)
{
	char path[4096];
	tally inc = { 0, 0, 0 }, con = { 0, 0, 0 };

	(void)state;
	snprintf(path, sizeof(path), "%s/transparency-dev-merkle/testdata/inclusion", dir);
	walk(path, probe_inclusion, &inc);
	snprintf(path, sizeof(path), "%s/transparency-dev-merkle/testdata/consistency", dir);
	walk(path, probe_consistency, &con);
	print_message("transparency-dev: %zu inclusion probes (%zu must fail), %zu consistency probes (%zu must fail)\n",
		inc.ran, inc.must_fail, con.ran, con.must_fail);
	assert_true(inc.ran > 50 && con.ran > 50);
	assert_true(inc.must_fail > 0 && con.must_fail > 0);
	assert_int_equal(inc.mismatched + con.mismatched, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6962),
		cmocka_unit_test(test_transparency_dev),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s VECTORS_DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	return cmocka_run_group_tests_name("vectors_merkle", tests, NULL, NULL);
}
