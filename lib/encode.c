/*
 * encode.c - hex and strict base64.
 */
#include "encode.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void eakte_hex__encode(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int eakte_hex__decode(uint8_t *out, size_t n, const char *in, size_t in_len)
{
	size_t i;

	if (in_len != 2 * n)
		return eakte_error__set(EAKTE_EINVALID, "hex value has %zu digits, expected %zu", in_len, 2 * n);
	for (i = 0; i < n; i++) {
		int hi = hex_value(in[2 * i]), lo = hex_value(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return eakte_error__set(EAKTE_EINVALID, "hex value has a non-hex character at position %zu",
				hi < 0 ? 2 * i : 2 * i + 1);
		out[i] = (uint8_t)((hi << 4) | lo);
	}
	return 0;
}

size_t eakte_base64__encoded_len(size_t n)
{
	return 4 * ((n + 2) / 3);
}

void eakte_base64__encode_to(char *out, const uint8_t *in, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}

int eakte_base64__encode(char **out, const uint8_t *in, size_t n)
{
	char *s = malloc(eakte_base64__encoded_len(n) + 1);

	*out = NULL;
	if (s == NULL)
		return eakte_error__oom("encoding base64");
	eakte_base64__encode_to(s, in, n);
	*out = s;
	return 0;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int b64_decode_into(uint8_t *out, size_t *out_len, const char *in, size_t in_len)
{
	size_t i, o = 0, pad = 0;

	if (in_len % 4 != 0)
		return eakte_error__set(EAKTE_EINVALID, "base64 text has length %zu, not a multiple of 4", in_len);
	if (in_len > 0 && in[in_len - 1] == '=')
		pad++;
	if (in_len > 1 && in[in_len - 2] == '=')
		pad++;
	for (i = 0; i < in_len; i += 4) {
		int v[4];
		size_t k;
		bool last = i + 4 == in_len;

		for (k = 0; k < 4; k++) {
			if (last && k >= 4 - pad) {
				v[k] = 0;
				continue;
			}
			v[k] = b64_value(in[i + k]);
			if (v[k] < 0)
				return eakte_error__set(EAKTE_EINVALID, "base64 text has an invalid character at position %zu", i + k);
		}
		out[o++] = (uint8_t)((v[0] << 2) | (v[1] >> 4));
		if (!(last && pad == 2))
			out[o++] = (uint8_t)(((v[1] & 15) << 4) | (v[2] >> 2));
		else if ((v[1] & 15) != 0)
			return eakte_error__set(EAKTE_EINVALID, "base64 text is not canonical (padding bits set)");
		if (!(last && pad >= 1))
			out[o++] = (uint8_t)(((v[2] & 3) << 6) | v[3]);
		else if (pad == 1 && (v[2] & 3) != 0)
			return eakte_error__set(EAKTE_EINVALID, "base64 text is not canonical (padding bits set)");
	}
	*out_len = o;
	return 0;
}

int eakte_base64__decode(uint8_t **out, size_t *out_len, const char *in, size_t in_len)
{
	uint8_t *buf;
	int rc;

	*out = NULL;
	*out_len = 0;
	buf = malloc(in_len / 4 * 3 + 1);
	if (buf == NULL)
		return eakte_error__oom("decoding base64");
	rc = b64_decode_into(buf, out_len, in, in_len);
	if (rc < 0) {
		free(buf);
		*out_len = 0;
		return rc;
	}
	*out = buf;
	return 0;
}

int eakte_base64__decode_exact(uint8_t *out, size_t n, const char *in, size_t in_len)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if ((rc = eakte_base64__decode(&buf, &len, in, in_len)) < 0)
		return rc;
	if (len != n) {
		free(buf);
		return eakte_error__set(EAKTE_EINVALID, "base64 value decodes to %zu bytes, expected %zu", len, n);
	}
	memcpy(out, buf, n);
	free(buf);
	return 0;
}

int eakte_sha256__buf(uint8_t out[32], const void *buf, size_t len)
{
	if (EVP_Digest(buf, len, out, NULL, EVP_sha256(), NULL) != 1)
		return eakte_error__set(EAKTE_ENOMEM, "cannot compute a SHA-256 (OpenSSL failed, most likely out of memory)");
	return 0;
}
