/*
 * merkle.c - RFC 9162 Merkle tree hashes, proofs and proof verification.
 *
 * Subtree hashes are computed over the leaf array on demand: a proof needs
 * O(log n) subtree hashes whose ranges together cover the tree once, so a
 * proof costs O(n) hashing and O(log n) memory.  The verifiers are a
 * line-by-line transcription of RFC 9162 sections 2.1.3.2 and 2.1.4.2.
 */
#include "merkle.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

static void sha256(eakte_hash out, const void *data, size_t len)
{
	EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL);
}

void eakte_merkle__leaf_hash(eakte_hash out, const void *data, size_t len)
{
	static const uint8_t zero = 0x00;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	/* Failure here means OpenSSL cannot allocate a digest context; the zero
	 * hash then fails every comparison it takes part in. */
	if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(c, &zero, 1) != 1 || EVP_DigestUpdate(c, data, len) != 1 ||
	    EVP_DigestFinal_ex(c, out, NULL) != 1)
		memset(out, 0, EAKTE_HASH_LEN);
	EVP_MD_CTX_free(c);
}

void eakte_merkle__node_hash(eakte_hash out, const eakte_hash left, const eakte_hash right)
{
	uint8_t buf[1 + 2 * EAKTE_HASH_LEN];

	buf[0] = 0x01;
	memcpy(buf + 1, left, EAKTE_HASH_LEN);
	memcpy(buf + 1 + EAKTE_HASH_LEN, right, EAKTE_HASH_LEN);
	sha256(out, buf, sizeof(buf));
}

/* Largest power of two strictly less than n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;

	while (k < n - k)
		k <<= 1;
	return k;
}

/*
 * MTH of leaves[0..n), n >= 1, iteratively: a binary counter of perfect
 * subtree roots (the compact range), folded right to left at the end.
 */
static void subtree_root(eakte_hash out, const eakte_hash *leaves, uint64_t n)
{
	eakte_merkle_range r;
	uint64_t i;

	eakte_merkle__range_init(&r);
	for (i = 0; i < n; i++)
		eakte_merkle__range_append(&r, leaves[i]);
	eakte_merkle__range_root(&r, out);
}

void eakte_merkle__root(eakte_hash out, const eakte_hash *leaves, uint64_t n)
{
	if (n == 0) {
		sha256(out, "", 0);
		return;
	}
	subtree_root(out, leaves, n);
}

void eakte_merkle__range_init(eakte_merkle_range *range)
{
	memset(range, 0, sizeof(*range));
}

void eakte_merkle__range_append(eakte_merkle_range *range, const eakte_hash leaf_hash)
{
	uint64_t size = range->size;
	eakte_hash cur;

	/* Merge equal-sized perfect subtrees, like carrying in a binary add. */
	memcpy(cur, leaf_hash, EAKTE_HASH_LEN);
	while (size & 1) {
		eakte_merkle__node_hash(cur, range->nodes[range->count - 1], cur);
		range->count--;
		size >>= 1;
	}
	memcpy(range->nodes[range->count++], cur, EAKTE_HASH_LEN);
	range->size++;
}

void eakte_merkle__range_root(const eakte_merkle_range *range, eakte_hash out)
{
	eakte_hash acc;
	size_t i;

	if (range->count == 0) {
		sha256(out, "", 0);
		return;
	}
	/* The left subtrees are the largest perfect ones, so MTH folds from the right. */
	memcpy(acc, range->nodes[range->count - 1], EAKTE_HASH_LEN);
	for (i = range->count - 1; i > 0; i--)
		eakte_merkle__node_hash(acc, range->nodes[i - 1], acc);
	memcpy(out, acc, EAKTE_HASH_LEN);
}

typedef struct {
	eakte_hash *items;
	size_t count;
	size_t cap;
} hash_list;

static int push(hash_list *l, const eakte_hash h)
{
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		eakte_hash *p = realloc(l->items, cap * sizeof(*p));
		if (p == NULL)
			return eakte_error__oom("building a Merkle proof");
		l->items = p;
		l->cap = cap;
	}
	memcpy(l->items[l->count++], h, EAKTE_HASH_LEN);
	return 0;
}

/* RFC 9162 2.1.3.1: PATH(m, D[n]), appended leaf-to-root order. */
static int path(hash_list *out, uint64_t m, const eakte_hash *d, uint64_t n)
{
	eakte_hash h;
	uint64_t k;
	int rc;

	if (n <= 1)
		return 0;
	k = split_point(n);
	if (m < k) {
		if ((rc = path(out, m, d, k)) < 0)
			return rc;
		subtree_root(h, d + k, n - k);
	} else {
		if ((rc = path(out, m - k, d + k, n - k)) < 0)
			return rc;
		subtree_root(h, d, k);
	}
	return push(out, h);
}

/* RFC 9162 2.1.4.1: SUBPROOF(m, D[n], b). */
static int subproof(hash_list *out, uint64_t m, const eakte_hash *d, uint64_t n, int b)
{
	eakte_hash h;
	uint64_t k;
	int rc;

	if (m == n) {
		if (b)
			return 0;
		subtree_root(h, d, n);
		return push(out, h);
	}
	k = split_point(n);
	if (m <= k) {
		if ((rc = subproof(out, m, d, k, b)) < 0)
			return rc;
		subtree_root(h, d + k, n - k);
	} else {
		if ((rc = subproof(out, m - k, d + k, n - k, 0)) < 0)
			return rc;
		subtree_root(h, d, k);
	}
	return push(out, h);
}

int eakte_merkle__inclusion_proof(eakte_hash **proof, size_t *count,
	const eakte_hash *leaves, uint64_t n, uint64_t index)
{
	hash_list l = { NULL, 0, 0 };
	int rc;

	*proof = NULL;
	*count = 0;
	if (index >= n)
		return eakte_error__set(EAKTE_EINVALID, "inclusion proof for index %llu in a tree of %llu leaves",
			(unsigned long long)index, (unsigned long long)n);
	if ((rc = path(&l, index, leaves, n)) < 0) {
		free(l.items);
		return rc;
	}
	*proof = l.items;
	*count = l.count;
	return 0;
}

int eakte_merkle__consistency_proof(eakte_hash **proof, size_t *count,
	const eakte_hash *leaves, uint64_t m, uint64_t n)
{
	hash_list l = { NULL, 0, 0 };
	int rc;

	*proof = NULL;
	*count = 0;
	if (m == 0 || m > n)
		return eakte_error__set(EAKTE_EINVALID, "consistency proof between sizes %llu and %llu: need 0 < m <= n",
			(unsigned long long)m, (unsigned long long)n);
	if (m == n)
		return 0;
	if ((rc = subproof(&l, m, leaves, n, 1)) < 0) {
		free(l.items);
		return rc;
	}
	*proof = l.items;
	*count = l.count;
	return 0;
}

int eakte_merkle__verify_inclusion(const eakte_hash leaf_hash, uint64_t index, uint64_t size,
	const eakte_hash *proof, size_t count, const eakte_hash root)
{
	uint64_t fn, sn;
	eakte_hash r;
	size_t i;

	/* RFC 9162 2.1.3.2 step 1 */
	if (index >= size)
		return eakte_error__set(EAKTE_EVERIFY, "inclusion proof: index %llu is not below the tree size %llu",
			(unsigned long long)index, (unsigned long long)size);
	/* step 2 */
	fn = index;
	sn = size - 1;
	/* step 3 */
	memcpy(r, leaf_hash, EAKTE_HASH_LEN);
	/* step 4 */
	for (i = 0; i < count; i++) {
		if (sn == 0)
			return eakte_error__set(EAKTE_EVERIFY, "inclusion proof has %zu hashes, more than index %llu in a tree of %llu needs",
				count, (unsigned long long)index, (unsigned long long)size);
		if ((fn & 1) || fn == sn) {
			eakte_merkle__node_hash(r, proof[i], r);
			if (!(fn & 1)) {
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			eakte_merkle__node_hash(r, r, proof[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	/* step 5 */
	if (sn != 0)
		return eakte_error__set(EAKTE_EVERIFY, "inclusion proof has %zu hashes, fewer than index %llu in a tree of %llu needs",
			count, (unsigned long long)index, (unsigned long long)size);
	if (memcmp(r, root, EAKTE_HASH_LEN) != 0)
		return eakte_error__set(EAKTE_EVERIFY, "inclusion proof does not lead to the root of the tree of size %llu",
			(unsigned long long)size);
	return 0;
}

int eakte_merkle__verify_consistency(uint64_t size1, uint64_t size2,
	const eakte_hash *proof, size_t count, const eakte_hash root1, const eakte_hash root2)
{
	uint64_t fn, sn;
	eakte_hash fr, sr;
	size_t i = 0;

	if (size1 == 0)
		return eakte_error__set(EAKTE_EVERIFY, "consistency proof from an empty tree proves nothing");
	if (size1 > size2)
		return eakte_error__set(EAKTE_EVERIFY, "consistency proof: old size %llu is larger than new size %llu",
			(unsigned long long)size1, (unsigned long long)size2);
	if (size1 == size2) {
		if (count != 0)
			return eakte_error__set(EAKTE_EVERIFY, "consistency proof between equal sizes must be empty");
		if (memcmp(root1, root2, EAKTE_HASH_LEN) != 0)
			return eakte_error__set(EAKTE_EVERIFY, "trees of equal size %llu have different roots",
				(unsigned long long)size1);
		return 0;
	}
	/* RFC 9162 2.1.4.2 step 1: if size1 is a power of two, prepend root1. */
	if (count == 0)
		return eakte_error__set(EAKTE_EVERIFY, "consistency proof is empty");
	/* steps 2-4 */
	fn = size1 - 1;
	sn = size2 - 1;
	if ((size1 & (size1 - 1)) == 0) {
		memcpy(fr, root1, EAKTE_HASH_LEN);
		memcpy(sr, root1, EAKTE_HASH_LEN);
	} else {
		/* step 3: while LSB(fn) is set, shift fn and sn right */
		memcpy(fr, proof[0], EAKTE_HASH_LEN);
		memcpy(sr, proof[0], EAKTE_HASH_LEN);
		i = 1;
	}
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	/* step 5 */
	for (; i < count; i++) {
		if (sn == 0)
			return eakte_error__set(EAKTE_EVERIFY, "consistency proof has too many hashes (%zu)", count);
		if ((fn & 1) || fn == sn) {
			eakte_merkle__node_hash(fr, proof[i], fr);
			eakte_merkle__node_hash(sr, proof[i], sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			eakte_merkle__node_hash(sr, sr, proof[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	/* step 6 */
	if (sn != 0)
		return eakte_error__set(EAKTE_EVERIFY, "consistency proof has too few hashes (%zu)", count);
	if (memcmp(fr, root1, EAKTE_HASH_LEN) != 0)
		return eakte_error__set(EAKTE_EVERIFY, "consistency proof does not reproduce the old root (size %llu)",
			(unsigned long long)size1);
	if (memcmp(sr, root2, EAKTE_HASH_LEN) != 0)
		return eakte_error__set(EAKTE_EVERIFY, "consistency proof does not reproduce the new root (size %llu)",
			(unsigned long long)size2);
	return 0;
}
