/*
 * client.c - the client side of the daemon's socket protocol
 * (schema/protocol-v1.md); the public API is in eakte.h.
 */
#include "common.h"
#include "fdpass.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

/* A response is at most a search page or a document record. */
#define RESPONSE_MAX (64u << 20)

struct eakte_client {
	int fd;
	char *buf;          /* received bytes not yet returned */
	size_t len, cap;
};

int eakte_client_connect(eakte_client **out, const char *socket_path)
{
	struct sockaddr_un sa;
	eakte_client *c;

	*out = NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return eakte_error__set(EAKTE_EINVALID, "socket path too long (at most %zu bytes): %s",
			sizeof(sa.sun_path) - 1, socket_path);
	strcpy(sa.sun_path, socket_path);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return eakte_error__oom("connecting to eakted");
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		free(c);
		return eakte_error__set_errno(EAKTE_EIO, errno, "cannot create a socket");
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		close(c->fd);
		free(c);
		return eakte_error__set_errno(e == ENOENT || e == ECONNREFUSED ? EAKTE_ENOTFOUND : EAKTE_EIO, e,
			"cannot connect to eakted at %s (is the daemon running? without it, "
			"unset EAKTE_SOCKET to use the archive directly)", socket_path);
	}
	*out = c;
	return 0;
}

void eakte_client_free(eakte_client *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c->buf);
	free(c);
}

int eakte_client_send(eakte_client *c, const char *request, const int *fds, size_t nfds)
{
	size_t len = strlen(request);
	char *line;
	int rc;

	if (nfds > EAKTE_CLIENT_MAX_FDS)
		return eakte_error__set(EAKTE_EINVALID, "at most %d files per request", EAKTE_CLIENT_MAX_FDS);
	if (memchr(request, '\n', len) != NULL)
		return eakte_error__set(EAKTE_EINVALID, "a request must be one line");
	line = malloc(len + 1);
	if (line == NULL)
		return eakte_error__oom("sending a request");
	memcpy(line, request, len);
	line[len] = '\n';
	rc = eakte_fdpass__send(c->fd, line, len + 1, fds, nfds);
	free(line);
	return rc < 0 ? eakte_error__wrap(rc, "sending to eakted") : 0;
}

/* The next line from the daemon, without its newline; NUL-terminated in c->buf. */
static int read_line(eakte_client *c, size_t *line_len)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		ssize_t n;

		if (nl != NULL) {
			*nl = '\0';
			*line_len = (size_t)(nl - c->buf);
			return 0;
		}
		if (c->len >= RESPONSE_MAX)
			return eakte_error__set(EAKTE_EIO, "eakted sent a response longer than %u bytes", RESPONSE_MAX);
		if (c->cap - c->len < 65536) {
			size_t cap = c->cap ? c->cap * 2 : 65536;
			char *nb = realloc(c->buf, cap + 1);
			if (nb == NULL)
				return eakte_error__oom("receiving a response");
			c->buf = nb;
			c->cap = cap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return eakte_error__set_errno(EAKTE_EIO, errno, "receiving from eakted");
		if (n == 0)
			return eakte_error__set(EAKTE_EIO, "eakted closed the connection before it answered "
				"(see its log: journalctl -u eakted)");
		c->len += (size_t)n;
	}
}

int eakte_client_recv(eakte_client *c, char **response)
{
	size_t len = 0;
	json_t *r, *err;
	json_error_t je;
	int rc;

	*response = NULL;
	if ((rc = read_line(c, &len)) < 0)
		return rc;
	r = json_loadb(c->buf, len, 0, &je);
	if (r == NULL || !json_is_object(r)) {
		json_decref(r);
		rc = eakte_error__set(EAKTE_EIO, "eakted sent a response that is not a JSON object");
	} else if (json_is_true(json_object_get(r, "ok"))) {
		*response = strdup(c->buf);
		rc = *response ? 0 : eakte_error__oom("receiving a response");
	} else {
		json_int_t code;
		err = json_object_get(r, "error");
		code = json_integer_value(json_object_get(err, "code"));
		rc = eakte_error__set(code < 0 && code >= EAKTE_EVERIFY ? (int)code : EAKTE_EIO, "%s",
			json_string_value(json_object_get(err, "message")) ? json_string_value(json_object_get(err, "message"))
				: "eakted refused the request without a message");
	}
	json_decref(r);
	memmove(c->buf, c->buf + len + 1, c->len - len - 1);
	c->len -= len + 1;
	return rc;
}

int eakte_client_call(eakte_client *c, const char *request, const int *fds, size_t nfds, char **response)
{
	int rc = eakte_client_send(c, request, fds, nfds);
	if (rc < 0) {
		*response = NULL;
		return rc;
	}
	return eakte_client_recv(c, response);
}

static int set_str(json_t *o, const char *key, const char *v)
{
	return v == NULL ? 0 : json_object_set_new(o, key, json_string(v));
}

static int set_list(json_t *o, const char *key, const char *const *v, size_t n)
{
	json_t *a;

	if (n == 0)
		return 0;
	if ((a = json_array()) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return -1;
		}
	return json_object_set_new(o, key, a);
}

/* Send `req` (consumed), receive, and hand back the parsed response. */
static int exchange(eakte_client *c, json_t *req, const int *fds, size_t nfds, json_t **resp)
{
	char *line, *out = NULL;
	int rc;

	*resp = NULL;
	line = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (line == NULL)
		return eakte_error__oom("building a request (or a string is not UTF-8)");
	rc = eakte_client_call(c, line, fds, nfds, &out);
	free(line);
	if (rc < 0)
		return rc;
	*resp = json_loads(out, 0, NULL);
	free(out);
	return *resp ? 0 : eakte_error__oom("reading a response");
}

int eakte_client_file(eakte_client *c, const int *fds, const eakte_file_options *opts, size_t n,
	char (*ids)[EAKTE_ID_LEN + 1])
{
	json_t *req, *docs, *resp = NULL, *got;
	int rc, bad = 0;

	if (n == 0 || n > EAKTE_CLIENT_MAX_FDS)
		return eakte_error__set(EAKTE_EINVALID, "give 1 to %d documents per request", EAKTE_CLIENT_MAX_FDS);
	req = json_pack("{s:i, s:s}", "v", 1, "op", "file");
	docs = json_array();
	if (req == NULL || docs == NULL || json_object_set_new(req, "docs", docs) < 0) {
		json_decref(req);
		return eakte_error__oom("building a request");
	}
	for (size_t i = 0; i < n && !bad; i++) {
		const eakte_file_options *o = &opts[i];
		json_t *d = json_pack("{s:i}", "fd", (json_int_t)i);
		bad = d == NULL || set_str(d, "akte", o->akte) < 0 || set_str(d, "title", o->title) < 0 ||
		      set_str(d, "filename", o->filename) < 0 || set_list(d, "meta", o->meta, o->meta_count) < 0 ||
		      (o->vorgang > 0 && json_object_set_new(d, "vorgang", json_integer(o->vorgang)) < 0) ||
		      set_str(d, "new_version_of", o->new_version_of) < 0 ||
		      (o->version >= 3 && set_str(d, "label", o->label) < 0) || json_array_append_new(docs, d) < 0;
	}
	if (bad) {
		json_decref(req);
		return eakte_error__set(EAKTE_EINVALID, "a title, file name or metadata entry is not valid UTF-8");
	}
	if ((rc = exchange(c, req, fds, n, &resp)) < 0)
		return rc;
	got = json_object_get(resp, "ids");
	if (json_array_size(got) != n) {
		json_decref(resp);
		return eakte_error__set(EAKTE_EIO, "eakted answered with %zu ids for %zu documents", json_array_size(got), n);
	}
	for (size_t i = 0; i < n; i++) {
		const char *id = json_string_value(json_array_get(got, i));
		if (id == NULL || strlen(id) != EAKTE_ID_LEN) {
			json_decref(resp);
			return eakte_error__set(EAKTE_EIO, "eakted answered with a malformed document id");
		}
		memcpy(ids[i], id, EAKTE_ID_LEN + 1);
	}
	json_decref(resp);
	return 0;
}

int eakte_client_search(eakte_client *c, char **out, const eakte_search_options *o)
{
	json_t *req, *resp = NULL;
	const char *s;
	int rc;

	*out = NULL;
	req = json_pack("{s:i, s:s, s:s%, s:I, s:I}", "v", 1, "op", "search",
		"query", o->query ? o->query : "", o->query ? o->query_len : (size_t)0,
		"limit", (json_int_t)o->limit, "offset", (json_int_t)o->offset);
	if (req == NULL)
		return eakte_error__set(EAKTE_EINVALID, "the query is not valid UTF-8");
	if (set_str(req, "akte", o->akte) < 0 || set_str(req, "plan", o->plan) < 0 ||
	    set_str(req, "from", o->from) < 0 || set_str(req, "to", o->to) < 0 ||
	    set_str(req, "type", o->mime) < 0 || set_str(req, "sort", o->sort) < 0 ||
	    set_list(req, "meta", o->meta, o->meta_count) < 0) {
		json_decref(req);
		return eakte_error__set(EAKTE_EINVALID, "a search filter is not valid UTF-8");
	}
	if ((rc = exchange(c, req, NULL, 0, &resp)) < 0)
		return rc;
	s = json_string_value(json_object_get(resp, "json"));
	*out = s ? strdup(s) : NULL;
	json_decref(resp);
	if (*out == NULL)
		return eakte_error__set(EAKTE_EIO, "eakted answered a search without results");
	return 0;
}
