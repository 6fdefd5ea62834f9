/*
 * merkle.c - RFC 9162 Merkle tree hashes, proofs and proof verification.
 *
 * Proofs are generated top-down over the leaf array: at each level the
 * sibling subtree is hashed with a compact range (a stack of perfect
 * subtree roots), so a proof costs O(n) hashing and O(log n) memory.
 * The verifiers transcribe RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by
 * step; the expected proof length is worked out only to explain a failure.
 */
#include "merkle.h"

#include <stdlib.h>
#include <string.h>

/* See sha256() below for why the low-level interface. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

/*
 * One hash per level of a tree of up to 2^64 leaves, plus the old root a
 * consistency proof carries when the old size is not a power of two.
 */
#define MAX_PROOF 65

/*
 * These hashes cannot fail, and must not: a writer puts them into the
 * journal (each event's prev, the checkpoint's root), and a wrong one
 * there is permanent.  OpenSSL 3's EVP interface allocates a context (and
 * fetches the algorithm) on every call, so it fails when memory runs out;
 * an earlier version wrote all zeros then, and the fault-injection tests
 * found an event whose prev was zeros after a failed allocation inside
 * OpenSSL.  The low-level SHA-256 functions (deprecated in OpenSSL 3.0,
 * still built, the same assembly underneath) work on a context on the
 * stack and never allocate.  Should a later OpenSSL drop them, the
 * replacement must keep that property (or make every caller check).
 */
static void sha256(eakte_hash out, const void *data, size_t len)
{
	SHA256(data, len, out);
}

void eakte_merkle__leaf_hash(eakte_hash out, const void *data, size_t len)
{
	static const uint8_t leaf_prefix = 0x00;
	SHA256_CTX c;

	/* Streamed rather than copying data behind the prefix: leaves are
	 * whole journal events of up to EAKTE_EVENT_MAX bytes. */
	SHA256_Init(&c);
	SHA256_Update(&c, &leaf_prefix, 1);
	SHA256_Update(&c, data, len);
	SHA256_Final(out, &c);
}

void eakte_merkle__node_hash(eakte_hash out, const eakte_hash left, const eakte_hash right)
{
	uint8_t buf[1 + 2 * EAKTE_HASH_LEN];

	buf[0] = 0x01;
	memcpy(buf + 1, left, EAKTE_HASH_LEN);
	memcpy(buf + 1 + EAKTE_HASH_LEN, right, EAKTE_HASH_LEN);
	sha256(out, buf, sizeof(buf));
}

/* Largest power of two strictly less than n, for n >= 2.  Written as
 * k < n - k so that doubling k can never overflow. */
static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;

	while (k < n - k)
		k <<= 1;
	return k;
}

void eakte_merkle__range_init(eakte_merkle_range *range)
{
	memset(range, 0, sizeof(*range));
}

/*
 * nodes[] holds one perfect subtree per set bit of size, so appending is a
 * binary increment: each trailing one bit is a carry that merges the
 * newest subtree into its equal-sized left neighbour.  A range of 2^64 - 1
 * leaves cannot grow further; no journal gets there.
 */
void eakte_merkle__range_append(eakte_merkle_range *range, const eakte_hash leaf_hash)
{
	uint64_t carry = range->size;
	eakte_hash cur;

	memcpy(cur, leaf_hash, EAKTE_HASH_LEN);
	while (carry & 1) {
		range->count--;
		eakte_merkle__node_hash(cur, range->nodes[range->count], cur);
		carry >>= 1;
	}
	memcpy(range->nodes[range->count], cur, EAKTE_HASH_LEN);
	range->count++;
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
	/* MTH splits off the largest power of two on the left, so the tree
	 * is the subtrees joined from the right: n0 (n1 (n2 ...)). */
	memcpy(acc, range->nodes[range->count - 1], EAKTE_HASH_LEN);
	for (i = range->count - 1; i > 0; i--)
		eakte_merkle__node_hash(acc, range->nodes[i - 1], acc);
	memcpy(out, acc, EAKTE_HASH_LEN);
}

/* MTH(d[0..n)), n >= 1, in O(log n) memory. */
static void subtree_hash(eakte_hash out, const eakte_hash *d, uint64_t n)
{
	eakte_merkle_range r;
	uint64_t i;

	eakte_merkle__range_init(&r);
	for (i = 0; i < n; i++)
		eakte_merkle__range_append(&r, d[i]);
	eakte_merkle__range_root(&r, out);
}

void eakte_merkle__root(eakte_hash out, const eakte_hash *leaves, uint64_t n)
{
	if (n == 0) {
		sha256(out, "", 0);
		return;
	}
	subtree_hash(out, leaves, n);
}

/* The hash of leaves[off, off+n); the sibling on each level is appended
 * after the recursion returns, so every proof comes out leaf first. */
static void batch_proofs(eakte_hash out, const eakte_hash *leaves, uint64_t off, uint64_t n, const uint64_t *idx, size_t k,
	eakte_hash (*proofs)[64], size_t *counts)
{
	eakte_hash l, r;
	uint64_t s;
	size_t kl = 0, i;

	if (k == 0) {
		subtree_hash(out, leaves + off, n);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves[off], EAKTE_HASH_LEN);
		return;
	}
	s = split_point(n);
	while (kl < k && idx[kl] < off + s)
		kl++;
	batch_proofs(l, leaves, off, s, idx, kl, proofs, counts);
	batch_proofs(r, leaves, off + s, n - s, idx + kl, k - kl, proofs + kl, counts + kl);
	for (i = 0; i < kl; i++)
		memcpy(proofs[i][counts[i]++], r, EAKTE_HASH_LEN);
	for (i = kl; i < k; i++)
		memcpy(proofs[i][counts[i]++], l, EAKTE_HASH_LEN);
	eakte_merkle__node_hash(out, l, r);
}

int eakte_merkle__inclusion_proofs(eakte_hash (*proofs)[64], size_t *counts, const eakte_hash *leaves, uint64_t n,
	const uint64_t *indexes, size_t k)
{
	eakte_hash root;

	for (size_t i = 0; i < k; i++) {
		counts[i] = 0;
		if (indexes[i] >= n || (i > 0 && indexes[i] <= indexes[i - 1]))
			return eakte_error__set(EAKTE_EINVALID, "inclusion proofs: the indexes must be ascending and below the size %llu",
				(unsigned long long)n);
	}
	if (k == 0)
		return 0;
	batch_proofs(root, leaves, 0, n, indexes, k, proofs, counts);
	return 0;
}

/* Hand a proof built in a local buffer to the caller in malloc'ed memory. */
static int give_proof(eakte_hash **proof, size_t *count, eakte_hash *buf, size_t n)
{
	if (n == 0)
		return 0;
	*proof = malloc(n * sizeof(eakte_hash));
	if (*proof == NULL)
		return eakte_error__oom("a Merkle proof");
	memcpy(*proof, buf, n * sizeof(eakte_hash));
	*count = n;
	return 0;
}

int eakte_merkle__inclusion_proof(eakte_hash **proof, size_t *count,
	const eakte_hash *leaves, uint64_t n, uint64_t index)
{
	eakte_hash path[MAX_PROOF];
	size_t len = MAX_PROOF;
	uint64_t m = index;

	*proof = NULL;
	*count = 0;
	if (index >= n)
		return eakte_error__set(EAKTE_EINVALID,
			"cannot make an inclusion proof for index %llu in a tree of %llu leaves: the index must be below the size",
			(unsigned long long)index, (unsigned long long)n);
	/*
	 * RFC 9162 2.1.3.1 PATH, unrolled: descend from the root towards leaf
	 * m, taking the sibling subtree at each level.  PATH lists siblings
	 * leaf first, so the buffer is filled from the back.
	 */
	while (n > 1) {
		uint64_t k = split_point(n);

		len--;
		if (m < k) {
			subtree_hash(path[len], leaves + k, n - k);
			n = k;
		} else {
			subtree_hash(path[len], leaves, k);
			leaves += k;
			m -= k;
			n -= k;
		}
	}
	return give_proof(proof, count, path + len, MAX_PROOF - len);
}

int eakte_merkle__consistency_proof(eakte_hash **proof, size_t *count,
	const eakte_hash *leaves, uint64_t m, uint64_t n)
{
	eakte_hash path[MAX_PROOF];
	size_t len = MAX_PROOF;
	bool whole_old_tree = true;

	*proof = NULL;
	*count = 0;
	if (m == 0 || m > n)
		return eakte_error__set(EAKTE_EINVALID,
			"cannot make a consistency proof from tree size %llu to %llu: need 0 < old size <= new size",
			(unsigned long long)m, (unsigned long long)n);
	/*
	 * RFC 9162 2.1.4.1 SUBPROOF(m, D[n], true), unrolled like PATH above.
	 * b (whole_old_tree) holds while the descent has only gone left: the
	 * subtree where it stops is then the old tree itself, whose root the
	 * verifier has.  After a step right it is only part of the old tree,
	 * and its hash must be sent.
	 */
	while (m != n) {
		uint64_t k = split_point(n);

		len--;
		if (m <= k) {
			subtree_hash(path[len], leaves + k, n - k);
			n = k;
		} else {
			subtree_hash(path[len], leaves, k);
			leaves += k;
			m -= k;
			n -= k;
			whole_old_tree = false;
		}
	}
	if (!whole_old_tree) {
		len--;
		subtree_hash(path[len], leaves, n);
	}
	return give_proof(proof, count, path + len, MAX_PROOF - len);
}

/*
 * How many hashes the loop shared by 2.1.3.2 step 4 and 2.1.4.2 step 6
 * consumes before sn reaches 0: the proof length the verifier accepts.
 * Only used to say what was expected when a proof has the wrong length.
 */
static size_t accepted_length(uint64_t fn, uint64_t sn)
{
	size_t n = 0;

	while (sn != 0) {
		if (!(fn & 1) && fn == sn) {
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		}
		fn >>= 1;
		sn >>= 1;
		n++;
	}
	return n;
}

static int inclusion_length_error(size_t count, uint64_t index, uint64_t size)
{
	return eakte_error__set(EAKTE_EVERIFY,
		"inclusion proof has %zu hashes, expected %zu for index %llu in a tree of %llu",
		count, accepted_length(index, size - 1), (unsigned long long)index, (unsigned long long)size);
}

int eakte_merkle__verify_inclusion(const eakte_hash leaf_hash, uint64_t index, uint64_t size,
	const eakte_hash *proof, size_t count, const eakte_hash root)
{
	uint64_t fn, sn;
	eakte_hash r;
	size_t i;

	/* 1. */
	if (index >= size)
		return eakte_error__set(EAKTE_EVERIFY,
			"inclusion proof for index %llu in a tree of %llu: the index is not below the tree size",
			(unsigned long long)index, (unsigned long long)size);
	/* 2. */
	fn = index;
	sn = size - 1;
	/* 3. */
	memcpy(r, leaf_hash, EAKTE_HASH_LEN);
	/* 4. */
	for (i = 0; i < count; i++) {
		/* a. */
		if (sn == 0)
			return inclusion_length_error(count, index, size);
		/* b. */
		if ((fn & 1) || fn == sn) {
			eakte_merkle__node_hash(r, proof[i], r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			eakte_merkle__node_hash(r, r, proof[i]);
		}
		/* c. */
		fn >>= 1;
		sn >>= 1;
	}
	/* 5. */
	if (sn != 0)
		return inclusion_length_error(count, index, size);
	if (memcmp(r, root, EAKTE_HASH_LEN) != 0)
		return eakte_error__set(EAKTE_EVERIFY,
			"inclusion proof for index %llu in a tree of %llu does not lead to the expected root",
			(unsigned long long)index, (unsigned long long)size);
	return 0;
}

static int consistency_length_error(size_t count, uint64_t size1, uint64_t size2)
{
	uint64_t fn = size1 - 1, sn = size2 - 1;
	size_t expected = (size1 & (size1 - 1)) == 0 ? 0 : 1;

	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	expected += accepted_length(fn, sn);
	return eakte_error__set(EAKTE_EVERIFY,
		"consistency proof has %zu hashes, expected %zu from tree size %llu to %llu",
		count, expected, (unsigned long long)size1, (unsigned long long)size2);
}

int eakte_merkle__verify_consistency(uint64_t size1, uint64_t size2,
	const eakte_hash *proof, size_t count, const eakte_hash root1, const eakte_hash root2)
{
	const uint8_t *first;
	uint64_t fn, sn;
	eakte_hash fr, sr;
	size_t i;

	/* The RFC's algorithm assumes 0 < size1 < size2; the cases outside
	 * that are settled here (as transparency-dev/merkle does). */
	if (size1 == 0)
		return eakte_error__set(EAKTE_EVERIFY,
			"consistency proof from tree size 0 to %llu: a proof from the empty tree proves nothing",
			(unsigned long long)size2);
	if (size1 > size2)
		return eakte_error__set(EAKTE_EVERIFY,
			"consistency proof from tree size %llu to %llu: the first tree is the larger one",
			(unsigned long long)size1, (unsigned long long)size2);
	if (size1 == size2) {
		if (count != 0)
			return eakte_error__set(EAKTE_EVERIFY,
				"consistency proof between two trees of size %llu has %zu hashes, expected none",
				(unsigned long long)size1, count);
		if (memcmp(root1, root2, EAKTE_HASH_LEN) != 0)
			return eakte_error__set(EAKTE_EVERIFY,
				"two trees of size %llu have different roots", (unsigned long long)size1);
		return 0;
	}
	/* 1. */
	if (count == 0)
		return consistency_length_error(count, size1, size2);
	/* 2. Rather than prepending root1 to a copy of the array, keep the
	 * first value apart; i indexes the subsequent values in proof. */
	if ((size1 & (size1 - 1)) == 0) {
		first = root1;
		i = 0;
	} else {
		first = proof[0];
		i = 1;
	}
	/* 3. */
	fn = size1 - 1;
	sn = size2 - 1;
	/* 4. */
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	/* 5. */
	memcpy(fr, first, EAKTE_HASH_LEN);
	memcpy(sr, first, EAKTE_HASH_LEN);
	/* 6. */
	for (; i < count; i++) {
		/* a. */
		if (sn == 0)
			return consistency_length_error(count, size1, size2);
		/* b. */
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
		/* c. */
		fn >>= 1;
		sn >>= 1;
	}
	/* 7. */
	if (sn != 0)
		return consistency_length_error(count, size1, size2);
	if (memcmp(fr, root1, EAKTE_HASH_LEN) != 0)
		return eakte_error__set(EAKTE_EVERIFY,
			"consistency proof from tree size %llu to %llu does not reproduce the first root",
			(unsigned long long)size1, (unsigned long long)size2);
	if (memcmp(sr, root2, EAKTE_HASH_LEN) != 0)
		return eakte_error__set(EAKTE_EVERIFY,
			"consistency proof from tree size %llu to %llu does not reproduce the second root",
			(unsigned long long)size1, (unsigned long long)size2);
	return 0;
}
