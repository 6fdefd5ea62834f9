/* Unit tests: RFC 9162 Merkle tree (lib/merkle.c) against a naive
 * implementation written straight from the RFC's definitions, for every
 * tree size 1..64 and every index or pair of sizes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "merkle.h"

#define N 64

static eakte_hash leaves[N + 200];

/* --- naive RFC 9162 section 2.1 ------------------------------------ */

static uint64_t k_of(uint64_t n)
{
	uint64_t k = 1;
	while (k * 2 < n)
		k *= 2;
	return k;
}

static void mth(eakte_hash out, uint64_t lo, uint64_t hi)
{
	uint64_t n = hi - lo, k;
	eakte_hash l, r;

	if (n == 0) {
		EVP_Digest("", 0, out, NULL, EVP_sha256(), NULL);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves[lo], 32);
		return;
	}
	k = k_of(n);
	mth(l, lo, lo + k);
	mth(r, lo + k, hi);
	eakte_merkle__node_hash(out, l, r);
}

/* PATH(m, D[lo:hi]) into out, returns count */
static size_t naive_path(eakte_hash *out, uint64_t m, uint64_t lo, uint64_t hi)
{
	uint64_t n = hi - lo, k;
	size_t c;

	if (n <= 1)
		return 0;
	k = k_of(n);
	if (m < k) {
		c = naive_path(out, m, lo, lo + k);
		mth(out[c], lo + k, hi);
	} else {
		c = naive_path(out, m - k, lo + k, hi);
		mth(out[c], lo, lo + k);
	}
	return c + 1;
}

static size_t naive_subproof(eakte_hash *out, uint64_t m, uint64_t lo, uint64_t hi, int b)
{
	uint64_t n = hi - lo, k;
	size_t c;

	if (m == n) {
		if (b)
			return 0;
		mth(out[0], lo, hi);
		return 1;
	}
	k = k_of(n);
	if (m <= k) {
		c = naive_subproof(out, m, lo, lo + k, b);
		mth(out[c], lo + k, hi);
	} else {
		c = naive_subproof(out, m - k, lo + k, hi, 0);
		mth(out[c], lo, lo + k);
	}
	return c + 1;
}

static int setup(void **state)
{
	size_t i;
	uint8_t data[8];

	(void)state;
	for (i = 0; i < EAKTE_ARRAY_SIZE(leaves); i++) {
		memcpy(data, &i, sizeof(data));
		eakte_merkle__leaf_hash(leaves[i], data, sizeof(data));
	}
	return 0;
}

static void test_hash_definitions(void **state)
{
	eakte_hash h, e;
	uint8_t buf[65];

	(void)state;
	/* leaf: SHA-256(0x00 || data) */
	buf[0] = 0;
	memcpy(buf + 1, "abc", 3);
	EVP_Digest(buf, 4, e, NULL, EVP_sha256(), NULL);
	eakte_merkle__leaf_hash(h, "abc", 3);
	assert_memory_equal(h, e, 32);
	/* node: SHA-256(0x01 || l || r) */
	buf[0] = 1;
	memcpy(buf + 1, leaves[0], 32);
	memcpy(buf + 33, leaves[1], 32);
	EVP_Digest(buf, 65, e, NULL, EVP_sha256(), NULL);
	eakte_merkle__node_hash(h, leaves[0], leaves[1]);
	assert_memory_equal(h, e, 32);
	/* empty tree: SHA-256("") = e3b0c442... */
	eakte_merkle__root(h, (const eakte_hash *)leaves, 0);
	assert_int_equal(h[0], 0xe3);
	assert_int_equal(h[1], 0xb0);
}

static void test_roots(void **state)
{
	eakte_hash a, b;
	uint64_t n;

	(void)state;
	for (n = 0; n <= N; n++) {
		eakte_merkle__root(a, (const eakte_hash *)leaves, n);
		mth(b, 0, n);
		assert_memory_equal(a, b, 32);
	}
}

static void test_compact_range(void **state)
{
	eakte_merkle_range r;
	eakte_hash a, b;
	uint64_t n;

	(void)state;
	eakte_merkle__range_init(&r);
	for (n = 0; n <= N + 136; n++) {
		eakte_merkle__range_root(&r, a);
		eakte_merkle__root(b, (const eakte_hash *)leaves, n);
		assert_memory_equal(a, b, 32);
		assert_int_equal(r.size, n);
		assert_int_equal(r.count, (size_t)__builtin_popcountll(n));
		if (n < N + 136)
			eakte_merkle__range_append(&r, leaves[n]);
	}
}

static void test_inclusion_all(void **state)
{
	eakte_hash expect[64], root, bad;
	uint64_t n, m;

	(void)state;
	for (n = 1; n <= N; n++) {
		mth(root, 0, n);
		for (m = 0; m < n; m++) {
			eakte_hash *proof;
			size_t count, c2 = naive_path(expect, m, 0, n), i;

			assert_int_equal(eakte_merkle__inclusion_proof(&proof, &count, (const eakte_hash *)leaves, n, m), 0);
			assert_int_equal(count, c2);
			if (count)
				assert_memory_equal(proof, expect, count * 32);
			assert_int_equal(eakte_merkle__verify_inclusion(leaves[m], m, n, (const eakte_hash *)proof, count, root), 0);
			/* Every mutation fails.  (The tree size is not checked here: a
			 * path has the same shape for some neighbouring sizes, which is
			 * why the size must come from a signed checkpoint.) */
			if (n > 1) {
				assert_int_equal(eakte_merkle__verify_inclusion(leaves[m], m ^ 1, n, (const eakte_hash *)proof, count, root) == 0,
					(m ^ 1) < n && memcmp(leaves[m], leaves[m ^ 1], 32) == 0);
				assert_int_equal(eakte_merkle__verify_inclusion(leaves[(m + 1) % n], m, n, (const eakte_hash *)proof, count, root), EAKTE_EVERIFY);
			}
			for (i = 0; i < count; i++) {
				proof[i][i % 32] ^= 0x40;
				assert_int_equal(eakte_merkle__verify_inclusion(leaves[m], m, n, (const eakte_hash *)proof, count, root), EAKTE_EVERIFY);
				proof[i][i % 32] ^= 0x40;
			}
			if (count > 0)
				assert_int_equal(eakte_merkle__verify_inclusion(leaves[m], m, n, (const eakte_hash *)proof, count - 1, root), EAKTE_EVERIFY);
			memcpy(bad, root, 32);
			bad[31] ^= 1;
			assert_int_equal(eakte_merkle__verify_inclusion(leaves[m], m, n, (const eakte_hash *)proof, count, bad), EAKTE_EVERIFY);
			{
				eakte_hash *longer = malloc((count + 1) * sizeof(*longer));
				if (count)
					memcpy(longer, proof, count * 32);
				memcpy(longer[count], root, 32);
				assert_int_equal(eakte_merkle__verify_inclusion(leaves[m], m, n, (const eakte_hash *)longer, count + 1, root), EAKTE_EVERIFY);
				free(longer);
			}
			free(proof);
		}
		/* index out of range */
		{
			eakte_hash *proof;
			size_t count;
			assert_int_equal(eakte_merkle__inclusion_proof(&proof, &count, (const eakte_hash *)leaves, n, n), EAKTE_EINVALID);
			assert_int_equal(eakte_merkle__verify_inclusion(leaves[0], n, n, NULL, 0, root), EAKTE_EVERIFY);
		}
	}
}

static void test_consistency_all(void **state)
{
	eakte_hash expect[64], r1, r2;
	uint64_t n, m;

	(void)state;
	for (n = 1; n <= N; n++) {
		mth(r2, 0, n);
		for (m = 1; m <= n; m++) {
			eakte_hash *proof;
			size_t count, c2 = m == n ? 0 : naive_subproof(expect, m, 0, n, 1), i;

			mth(r1, 0, m);
			assert_int_equal(eakte_merkle__consistency_proof(&proof, &count, (const eakte_hash *)leaves, m, n), 0);
			assert_int_equal(count, c2);
			if (count)
				assert_memory_equal(proof, expect, count * 32);
			assert_int_equal(eakte_merkle__verify_consistency(m, n, (const eakte_hash *)proof, count, r1, r2), 0);
			for (i = 0; i < count; i++) {
				proof[i][7] ^= 1;
				assert_int_equal(eakte_merkle__verify_consistency(m, n, (const eakte_hash *)proof, count, r1, r2), EAKTE_EVERIFY);
				proof[i][7] ^= 1;
			}
			if (count > 0)
				assert_int_equal(eakte_merkle__verify_consistency(m, n, (const eakte_hash *)proof, count - 1, r1, r2), EAKTE_EVERIFY);
			if (m < n) {
				eakte_hash bad;
				memcpy(bad, r1, 32);
				bad[0] ^= 1;
				assert_int_equal(eakte_merkle__verify_consistency(m, n, (const eakte_hash *)proof, count, bad, r2), EAKTE_EVERIFY);
				assert_int_equal(eakte_merkle__verify_consistency(m, n, (const eakte_hash *)proof, count, r1, bad), EAKTE_EVERIFY);
			}
			free(proof);
		}
	}
}

static void test_errors(void **state)
{
	eakte_hash *proof, r;
	size_t count;

	(void)state;
	memset(r, 0, 32);
	assert_int_equal(eakte_merkle__consistency_proof(&proof, &count, (const eakte_hash *)leaves, 0, 5), EAKTE_EINVALID);
	assert_int_equal(eakte_merkle__consistency_proof(&proof, &count, (const eakte_hash *)leaves, 6, 5), EAKTE_EINVALID);
	assert_null(proof);
	assert_int_equal(eakte_merkle__verify_consistency(0, 5, NULL, 0, r, r), EAKTE_EVERIFY);
	assert_int_equal(eakte_merkle__verify_consistency(6, 5, NULL, 0, r, r), EAKTE_EVERIFY);
	assert_int_equal(eakte_merkle__verify_consistency(5, 5, (const eakte_hash *)leaves, 1, r, r), EAKTE_EVERIFY);
	assert_int_equal(eakte_merkle__verify_consistency(3, 5, NULL, 0, r, r), EAKTE_EVERIFY);
	assert_int_equal(eakte_merkle__verify_inclusion(leaves[0], 0, 0, NULL, 0, r), EAKTE_EVERIFY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_definitions),
		cmocka_unit_test(test_roots),
		cmocka_unit_test(test_compact_range),
		cmocka_unit_test(test_inclusion_all),
		cmocka_unit_test(test_consistency_all),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests_name("unit_merkle", tests, setup, NULL);
}
