/*
 * encode.h - hex and base64 (RFC 4648, padded) for hashes, keys and
 * signatures.  Decoders are strict: any character outside the alphabet,
 * wrong padding or a wrong length is an error.
 */
#ifndef EAKTE_ENCODE_H
#define EAKTE_ENCODE_H

#include "common.h"

/* Writes 2*n lowercase hex digits and a NUL to out (2*n+1 bytes). */
void eakte_hex__encode(char *out, const uint8_t *in, size_t n);

/* Decodes exactly 2*n hex digits (either case) from in[0..in_len) into
 * out[n].  EAKTE_EINVALID unless in_len == 2*n and all are hex digits. */
int eakte_hex__decode(uint8_t *out, size_t n, const char *in, size_t in_len);

/* Base64 of in[0..n): malloc'ed, NUL-terminated, no newlines. */
int eakte_base64__encode(char **out, const uint8_t *in, size_t n);

/* Length of the base64 text for n bytes, without NUL. */
size_t eakte_base64__encoded_len(size_t n);

/* Encode into a caller buffer of at least encoded_len(n)+1 bytes. */
void eakte_base64__encode_to(char *out, const uint8_t *in, size_t n);

/* Strict decode of padded base64 text: *out malloc'ed, *out_len set. */
int eakte_base64__decode(uint8_t **out, size_t *out_len, const char *in, size_t in_len);

/* Strict decode into a fixed-size buffer: the text must decode to exactly n bytes. */
int eakte_base64__decode_exact(uint8_t *out, size_t n, const char *in, size_t in_len);

/*
 * SHA-256 of buf.  OpenSSL allocates for it and can fail: a digest that was
 * not computed must never be used (it once went into a signed event).
 */
int eakte_sha256__buf(uint8_t out[32], const void *buf, size_t len);

#endif
