/*
 * merkle.h - RFC 9162 (RFC 6962) Merkle tree hashing over SHA-256.
 *
 *   leaf hash  = SHA-256(0x00 || data)
 *   node hash  = SHA-256(0x01 || left || right)
 *   MTH({})    = SHA-256("")
 *   MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n
 *
 * Proof generation works on an array of leaf hashes.  Proof verification
 * follows RFC 9162 section 2.1.3.2 (inclusion) and 2.1.4.2 (consistency)
 * exactly, including its error cases (index >= size, size1 > size2,
 * size1 == 0 is always rejected for consistency, wrong proof length).
 */
#ifndef EAKTE_MERKLE_H
#define EAKTE_MERKLE_H

#include "common.h"

typedef uint8_t eakte_hash[EAKTE_HASH_LEN];

void eakte_merkle__leaf_hash(eakte_hash out, const void *data, size_t len);
void eakte_merkle__node_hash(eakte_hash out, const eakte_hash left, const eakte_hash right);

/* MTH of leaves[0..n).  n == 0 gives SHA-256 of the empty string. O(n) time,
 * O(log n) extra memory. */
void eakte_merkle__root(eakte_hash out, const eakte_hash *leaves, uint64_t n);

/*
 * Inclusion proof (RFC 9162 2.1.3.1 PATH) of leaf `index` in the tree of the
 * first `n` leaves.  *proof is malloc'ed (NULL when *count is 0).
 * EAKTE_EINVALID if index >= n.
 */
int eakte_merkle__inclusion_proof(eakte_hash **proof, size_t *count,
	const eakte_hash *leaves, uint64_t n, uint64_t index);

/*
 * Inclusion proofs of k leaves at once: indexes[0..k) ascending, distinct,
 * each < n.  proofs[i][0..counts[i]) receives the proof of leaf
 * indexes[i], exactly as eakte_merkle__inclusion_proof() gives it.  Every
 * subtree is hashed once: O(n + k log n) instead of O(k n), for exports
 * of many events from a long journal.
 */
int eakte_merkle__inclusion_proofs(eakte_hash (*proofs)[64], size_t *counts, const eakte_hash *leaves, uint64_t n,
	const uint64_t *indexes, size_t k);

/*
 * Consistency proof (RFC 9162 2.1.4.1 PROOF) between the tree of the first m
 * leaves and the tree of the first n.  EAKTE_EINVALID unless 0 < m <= n.
 * m == n gives an empty proof.
 */
int eakte_merkle__consistency_proof(eakte_hash **proof, size_t *count,
	const eakte_hash *leaves, uint64_t m, uint64_t n);

/* 0 if the proof shows leaf_hash at index in a tree of `size` leaves with
 * `root`; EAKTE_EVERIFY (message says why) otherwise. */
int eakte_merkle__verify_inclusion(const eakte_hash leaf_hash, uint64_t index, uint64_t size,
	const eakte_hash *proof, size_t count, const eakte_hash root);

/* 0 if the proof shows the tree (size1, root1) is a prefix of (size2, root2);
 * EAKTE_EVERIFY otherwise. */
int eakte_merkle__verify_consistency(uint64_t size1, uint64_t size2,
	const eakte_hash *proof, size_t count, const eakte_hash root1, const eakte_hash root2);

/*
 * Compact range: the roots of the perfect subtrees that make up a tree of
 * `size` leaves (one per set bit of size, largest first).  Appending a leaf
 * and computing the root are O(log n), so a writer need not rehash the
 * whole journal.
 */
typedef struct {
	uint64_t size;
	size_t count;
	eakte_hash nodes[64];
} eakte_merkle_range;

void eakte_merkle__range_init(eakte_merkle_range *range);
void eakte_merkle__range_append(eakte_merkle_range *range, const eakte_hash leaf_hash);
void eakte_merkle__range_root(const eakte_merkle_range *range, eakte_hash out);

#endif
