/*
 * source.c - the archive itself or eakted; see source.h and
 * schema/protocol-v1.md.
 */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <libgen.h>

int src_open(cli_src *s, const cli_ctx *ctx, const char *verb, unsigned int flags)
{
	memset(s, 0, sizeof(*s));
	if (ctx->socket != NULL)
		return cli_connect(&s->c, ctx, verb);
	return cli_open(&s->a, ctx, verb, flags);
}

void src_close(cli_src *s)
{
	eakte_archive_free(s->a);
	eakte_client_free(s->c);
	s->a = NULL;
	s->c = NULL;
}

const char *src_warning(const cli_src *s)
{
	return s->a ? eakte_archive_warning(s->a) : "";
}

int src_finish(const cli_src *s, const char *verb)
{
	if (src_warning(s)[0])
		fprintf(stderr, "eakte %s: warning: %s\n", verb, src_warning(s));
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
}

/*
 * Send `req` (consumed) with fds, and return the response object.  A
 * request that cannot be built (a string that is not UTF-8) is refused
 * as the library would refuse the bytes.
 */
static int call(cli_src *s, json_t *req, const int *fds, size_t nfds, json_t **resp)
{
	char *line = req ? json_dumps(req, JSON_COMPACT) : NULL, *out = NULL;
	int rc;

	*resp = NULL;
	json_decref(req);
	if (line == NULL) {
		fprintf(stderr, "eakte: an argument is not valid UTF-8\n");
		return EAKTE_EINVALID;
	}
	rc = eakte_client_call(s->c, line, fds, nfds, &out);
	free(line);
	if (rc < 0)
		return rc;
	*resp = json_loads(out, 0, NULL);
	eakte_free(out);
	return *resp ? 0 : EAKTE_EIO;
}

/* A text field of a response as a string the caller frees with eakte_free(). */
static int take_text(json_t *resp, const char *key, char **out)
{
	const char *v = json_string_value(json_object_get(resp, key));

	*out = v ? strdup(v) : NULL;
	json_decref(resp);
	return *out ? 0 : EAKTE_EIO;
}

int src_read(cli_src *s, const char *what, const char *arg, int64_t num, char **out)
{
	json_t *resp;
	int rc;

	*out = NULL;
	if (s->a != NULL) {
		eakte_doc *d = NULL;
		if (strcmp(what, "plan") == 0)
			return eakte_plan_json(out, s->a, arg);
		if (strcmp(what, "akte") == 0)
			return eakte_akte_json(out, s->a, arg);
		if (strcmp(what, "akten") == 0)
			return eakte_akte_list_json(out, s->a, arg, (int)num);
		if (strcmp(what, "tree") == 0)
			return eakte_tree_json(out, s->a);
		if (strcmp(what, "history") == 0)
			return eakte_doc_history_json(out, s->a, arg);
		if (strcmp(what, "doc-index") == 0)
			return eakte_doc_index_json(out, s->a, arg);
		if (strcmp(what, "checkpoint") == 0)
			return eakte_checkpoint_latest(out, s->a);
		if (strcmp(what, "verifier-key") == 0)
			return eakte_archive_verifier_key(out, s->a);
		if (strcmp(what, "proof") == 0)
			return eakte_proof_inclusion(out, s->a, (uint64_t)num);
		if (strcmp(what, "retention") == 0)
			return eakte_retention_json(out, s->a, arg);
		if (strcmp(what, "retention-due") == 0)
			return eakte_retention_due_json(out, s->a, arg);
		if (strcmp(what, "holds") == 0)
			return eakte_hold_list_json(out, s->a, arg, (int)num);
		if (strcmp(what, "proposals") == 0)
			return eakte_dispose_list_json(out, s->a);
		/* "doc" */
		rc = num > 0 ? eakte_doc_lookup_version(&d, s->a, arg, (unsigned int)num) : eakte_doc_lookup(&d, s->a, arg);
		if (rc == 0)
			rc = eakte_doc_to_json(out, d);
		eakte_doc_free(d);
		return rc;
	}
	json_t *req = json_pack("{s:i, s:s, s:s, s:I}", "v", 1, "op", "read", "what", what, "num", (json_int_t)num);
	if (req != NULL && arg != NULL && json_object_set_new(req, "arg", json_string(arg)) < 0) {
		json_decref(req);
		req = NULL;
	}
	if ((rc = call(s, req, NULL, 0, &resp)) < 0)
		return rc;
	return take_text(resp, "json", out);
}

int src_get(cli_src *s, const char *doc, unsigned int version, int fd)
{
	json_t *resp;
	int rc;

	if (s->a != NULL) {
		eakte_doc *d = NULL;
		if ((rc = eakte_doc_lookup_version(&d, s->a, doc, version)) == 0)
			rc = eakte_doc_read_to_fd(s->a, d, fd);
		eakte_doc_free(d);
		return rc;
	}
	rc = call(s, json_pack("{s:i, s:s, s:s, s:I}", "v", 1, "op", "get", "doc", doc, "version", (json_int_t)version),
		&fd, 1, &resp);
	json_decref(resp);
	return rc;
}

/* Split a line of the daemon's log stream into an event (see op_log). */
static int parse_event(char *line, eakte_event *e)
{
	char *f[8];
	size_t n = 0;

	f[n++] = line;
	for (char *p = line; *p && n < 8; p++)
		if (*p == '\t') {
			*p = '\0';
			f[n++] = p + 1;
		}
	if (n != 8)
		return -1;
	memset(e, 0, sizeof(*e));
	e->seq = strtoull(f[0], NULL, 10);
	e->time = f[1];
	e->actor = f[2];
	e->action = f[3];
	e->subject = f[4];
	e->commit = f[5];
	e->leaf_hash = f[6];
	e->json = f[7];
	e->json_len = strlen(f[7]);
	return 0;
}

int src_log(cli_src *s, uint64_t from, eakte_event_cb cb, void *payload)
{
	json_t *resp = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int p[2], rc = 0, stop = 0;
	FILE *in;

	if (s->a != NULL)
		return eakte_journal_foreach(s->a, from, cb, payload);
	/* The events come through a pipe, so that a long journal streams. */
	if (pipe2(p, O_CLOEXEC) != 0) {
		fprintf(stderr, "eakte log: cannot create a pipe: %s\n", strerror(errno));
		return EAKTE_EIO;
	}
	json_t *req = json_pack("{s:i, s:s, s:I}", "v", 1, "op", "log", "from", (json_int_t)from);
	char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	rc = text ? eakte_client_send(s->c, text, &p[1], 1) : EAKTE_ENOMEM;
	free(text);
	close(p[1]);
	if (rc < 0 || (in = fdopen(p[0], "r")) == NULL) {
		close(p[0]);
		return rc < 0 ? rc : EAKTE_ENOMEM;
	}
	while ((len = getline(&line, &cap, in)) > 0) {
		eakte_event e;
		if (stop)
			continue;   /* drain, so that the daemon finishes */
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (parse_event(line, &e) < 0) {
			fprintf(stderr, "eakte log: eakted sent a malformed event line\n");
			rc = EAKTE_EIO;
			stop = 1;
			continue;
		}
		if ((rc = cb(&e, payload)) != 0)
			stop = 1;
	}
	free(line);
	fclose(in);
	{
		char *out = NULL;
		int r2 = eakte_client_recv(s->c, &out);
		eakte_free(out);
		json_decref(resp);
		if (rc == 0)
			rc = r2;
	}
	return rc;
}

/* A write through the daemon; fields of its response stay in *resp. */
static int write_op(cli_src *s, json_t *req, const int *fds, size_t nfds, json_t **resp)
{
	json_t *r = NULL;
	int rc;

	rc = call(s, req, fds, nfds, &r);
	if (resp)
		*resp = r;
	else
		json_decref(r);
	return rc;
}

static json_t *req_new(const char *op)
{
	return json_pack("{s:i, s:s}", "v", 1, "op", op);
}

static int put(json_t *o, const char *k, const char *v)
{
	return v == NULL ? 0 : json_object_set_new(o, k, json_string(v));
}

int src_akte_create(cli_src *s, const eakte_akte_options *o, char **az)
{
	json_t *req, *resp = NULL;
	int rc;

	*az = NULL;
	if (s->a != NULL)
		return eakte_akte_create(s->a, o, az);
	req = req_new("akte-create");
	if (req && (put(req, "plan", o->plan) < 0 || put(req, "title", o->title) < 0 || put(req, "az", o->az) < 0)) {
		json_decref(req);
		req = NULL;
	}
	if ((rc = write_op(s, req, NULL, 0, &resp)) < 0)
		return rc;
	return take_text(resp, "az", az);
}

int src_vorgang_create(cli_src *s, const char *az, const char *title, int64_t *n)
{
	json_t *req, *resp = NULL;
	int rc;

	if (s->a != NULL)
		return eakte_vorgang_create(s->a, az, title, NULL, n);
	req = req_new("vorgang-create");
	if (req && (put(req, "az", az) < 0 || put(req, "title", title) < 0)) {
		json_decref(req);
		req = NULL;
	}
	if ((rc = write_op(s, req, NULL, 0, &resp)) < 0)
		return rc;
	*n = (int64_t)json_integer_value(json_object_get(resp, "vorgang"));
	json_decref(resp);
	return 0;
}

int src_akte_close(cli_src *s, const char *az, const char *date)
{
	json_t *req;

	if (s->a != NULL)
		return eakte_akte_close(s->a, az, date, NULL);
	req = req_new("akte-close");
	if (req && (put(req, "az", az) < 0 || put(req, "date", date) < 0)) {
		json_decref(req);
		req = NULL;
	}
	return write_op(s, req, NULL, 0, NULL);
}

int src_akte_reopen(cli_src *s, const char *az)
{
	json_t *req;

	if (s->a != NULL)
		return eakte_akte_reopen(s->a, az, NULL);
	req = req_new("akte-reopen");
	if (req && put(req, "az", az) < 0) {
		json_decref(req);
		req = NULL;
	}
	return write_op(s, req, NULL, 0, NULL);
}

int src_meta_set(cli_src *s, const char *doc, const char *title, const char *const *items, size_t n)
{
	json_t *req, *arr;

	if (s->a != NULL)
		return eakte_meta_set(s->a, doc, title, items, n, NULL);
	req = req_new("meta-set");
	arr = json_array();
	for (size_t i = 0; arr != NULL && i < n; i++)
		if (json_array_append_new(arr, json_string(items[i])) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	if (req && (arr == NULL || json_object_set_new(req, "items", arr) < 0 || put(req, "doc", doc) < 0 ||
	    put(req, "title", title) < 0)) {
		json_decref(req);
		req = NULL;
	}
	return write_op(s, req, NULL, 0, NULL);
}

int src_plan_import(cli_src *s, const char *buf, size_t len, const char *name, size_t *count)
{
	json_t *req, *resp = NULL;
	int fd, rc;

	if (s->a != NULL)
		return eakte_plan_import(s->a, buf, len, name, NULL, count);
	/* The file goes as a descriptor: its bytes, whatever their encoding,
	 * reach the library unchanged. */
	fd = memfd_create("eakte-plan", MFD_CLOEXEC);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0) {
		fprintf(stderr, "eakte plan: cannot pass the file to eakted: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return EAKTE_EIO;
	}
	req = req_new("plan-import");
	if (req && put(req, "name", name) < 0) {
		json_decref(req);
		req = NULL;
	}
	rc = write_op(s, req, &fd, 1, &resp);
	close(fd);
	if (rc == 0)
		*count = (size_t)json_integer_value(json_object_get(resp, "count"));
	json_decref(resp);
	return rc;
}

int src_reindex(cli_src *s, uint64_t *events)
{
	json_t *resp = NULL;
	int rc;

	if (s->a != NULL) {
		rc = eakte_reindex(s->a);
		*events = eakte_archive_size(s->a);
		return rc;
	}
	if ((rc = write_op(s, req_new("reindex"), NULL, 0, &resp)) == 0)
		*events = (uint64_t)json_integer_value(json_object_get(resp, "events"));
	json_decref(resp);
	return rc;
}

int src_verify(cli_src *s, const eakte_verify_options *vo, char **json)
{
	json_t *req, *resp = NULL;
	int rc;

	*json = NULL;
	if (s->a != NULL) {
		eakte_verify_report *r = NULL;
		if ((rc = eakte_verify(&r, s->a, vo)) == 0)
			rc = eakte_verify_report_to_json(json, r);
		eakte_verify_report_free(r);
		return rc;
	}
	req = json_pack("{s:i, s:s, s:b}", "v", 1, "op", "verify", "quick", vo->quick);
	if (req && vo->since && json_object_set_new(req, "since", json_stringn(vo->since, vo->since_len)) < 0) {
		json_decref(req);
		req = NULL;
	}
	if ((rc = call(s, req, NULL, 0, &resp)) < 0)
		return rc;
	return take_text(resp, "json", json);
}

int src_export(cli_src *s, const eakte_export_options *o, const char *path, eakte_export_result *res)
{
	json_t *resp = NULL;
	char *tmp = NULL;
	int fd, rc;

	if (s->a != NULL)
		return eakte_export(res, s->a, o, path);
	memset(res, 0, sizeof(*res));
	/* eakted writes into a file we create, so that the package belongs to
	 * the caller and appears under its name only when complete. */
	if (access(path, F_OK) == 0) {
		fprintf(stderr, "eakte export: %s exists; an export never replaces a file\n", path);
		return EAKTE_EEXISTS;
	}
	/* An unnamed file beside the target (as eakte_export() does); a named
	 * temporary file where O_TMPFILE is not supported. */
	{
		char *dcopy = strdup(path);
		fd = dcopy ? open(dirname(dcopy), O_TMPFILE | O_RDWR | O_CLOEXEC, 0644) : -1;
		free(dcopy);
	}
	if (fd < 0) {
		if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
			return EAKTE_ENOMEM;
		if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
			fprintf(stderr, "eakte export: cannot create a temporary file next to %s: %s\n", path, strerror(errno));
			free(tmp);
			return errno == ENOENT ? EAKTE_ENOTFOUND : EAKTE_EIO;
		}
		if (fchmod(fd, 0644) != 0) {
			fprintf(stderr, "eakte export: cannot set the mode of %s: %s\n", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			free(tmp);
			return EAKTE_EIO;
		}
	}
	{
		json_t *req = json_pack("{s:i, s:s, s:s, s:s}", "v", 1, "op", "export", "akte", o->akte, "format",
			o->format == EAKTE_PACKAGE_XDOMEA ? "xdomea" : o->format == EAKTE_PACKAGE_ZIP ? "zip" : "tar");
		if (req != NULL && o->recipient != NULL && json_object_set_new(req, "recipient", json_string(o->recipient)) < 0) {
			json_decref(req);
			req = NULL;
		}
		rc = call(s, req, &fd, 1, &resp);
	}
	if (rc == 0) {
		const char *sha = json_string_value(json_object_get(resp, "sha256"));
		snprintf(res->sha256, sizeof(res->sha256), "%s", sha ? sha : "");
		res->size = (uint64_t)json_integer_value(json_object_get(resp, "size"));
		res->checkpoint = (uint64_t)json_integer_value(json_object_get(resp, "checkpoint"));
		res->events = (uint64_t)json_integer_value(json_object_get(resp, "events"));
		res->documents = (uint64_t)json_integer_value(json_object_get(resp, "documents"));
		res->seq = (uint64_t)json_integer_value(json_object_get(resp, "seq"));
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (fsync(fd) != 0 || (tmp == NULL ? linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW)
			: renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE)) != 0) {
			fprintf(stderr, "eakte export: the package was written and journaled (event %" PRIu64 ") but cannot be named "
				"%s: %s%s%s\n", res->seq, path, strerror(errno), tmp ? "; it is in " : "; export again", tmp ? tmp : "");
			free(tmp);
			close(fd);
			json_decref(resp);
			return EAKTE_EIO;
		}
	} else if (tmp != NULL) {
		unlink(tmp);
	}
	close(fd);
	free(tmp);
	json_decref(resp);
	return rc;
}

int src_import(cli_src *s, int fd, const eakte_import_options *o, eakte_import_result *res)
{
	json_t *req, *resp = NULL;
	int rc;

	if (s->a != NULL)
		return eakte_import(res, s->a, fd, o);
	memset(res, 0, sizeof(*res));
	req = json_pack("{s:i, s:s}", "v", 1, "op", "import");
	if (req != NULL && o->as != NULL && json_object_set_new(req, "as", json_string(o->as)) < 0) {
		json_decref(req);
		req = NULL;
	}
	if (req != NULL && o->package.key != NULL &&
	    json_object_set_new(req, "key", json_stringn(o->package.key, o->package.key_len)) < 0) {
		json_decref(req);
		req = NULL;
	}
	if ((rc = call(s, req, &fd, 1, &resp)) < 0)
		return rc;
	snprintf(res->az, sizeof(res->az), "%s", json_string_value(json_object_get(resp, "az")) ?
		json_string_value(json_object_get(resp, "az")) : "");
	snprintf(res->fingerprint, sizeof(res->fingerprint), "%s", json_string_value(json_object_get(resp, "fingerprint")) ?
		json_string_value(json_object_get(resp, "fingerprint")) : "");
	res->seq = (uint64_t)json_integer_value(json_object_get(resp, "seq"));
	res->events = (uint64_t)json_integer_value(json_object_get(resp, "events"));
	res->documents = (uint64_t)json_integer_value(json_object_get(resp, "documents"));
	json_decref(resp);
	return 0;
}

/* ---- retention, holds, disposal ---- */

int src_retention_set(cli_src *s, const char *az, int years, const char *reason)
{
	json_t *req;

	if (s->a != NULL)
		return eakte_retention_set(s->a, az, years, reason, NULL);
	req = req_new("retention-set");
	if (req && (put(req, "az", az) < 0 || put(req, "reason", reason) < 0 ||
		    json_object_set_new(req, "years", json_integer(years)) < 0)) {
		json_decref(req);
		req = NULL;
	}
	return write_op(s, req, NULL, 0, NULL);
}

int src_hold_set(cli_src *s, const char *az, const char *reason, const char *case_id, uint64_t *hold)
{
	json_t *req, *resp = NULL;
	int rc;

	if (s->a != NULL)
		return eakte_hold_set(s->a, az, reason, case_id, NULL, hold);
	req = req_new("hold-set");
	if (req && (put(req, "az", az) < 0 || put(req, "reason", reason) < 0 || put(req, "case", case_id) < 0)) {
		json_decref(req);
		req = NULL;
	}
	if ((rc = write_op(s, req, NULL, 0, &resp)) == 0)
		*hold = (uint64_t)json_integer_value(json_object_get(resp, "hold"));
	json_decref(resp);
	return rc;
}

int src_hold_release(cli_src *s, const char *az, uint64_t hold, const char *reason)
{
	json_t *req;

	if (s->a != NULL)
		return eakte_hold_release(s->a, az, hold, reason, NULL);
	req = req_new("hold-release");
	if (req && (put(req, "az", az) < 0 || put(req, "reason", reason) < 0 ||
		    json_object_set_new(req, "hold", json_integer((json_int_t)hold)) < 0)) {
		json_decref(req);
		req = NULL;
	}
	return write_op(s, req, NULL, 0, NULL);
}

int src_dispose_propose(cli_src *s, const char *az, const char *reason, uint64_t *proposal)
{
	json_t *req, *resp = NULL;
	int rc;

	if (s->a != NULL)
		return eakte_dispose_propose(s->a, az, reason, NULL, proposal);
	req = req_new("dispose-propose");
	if (req && (put(req, "az", az) < 0 || put(req, "reason", reason) < 0)) {
		json_decref(req);
		req = NULL;
	}
	if ((rc = write_op(s, req, NULL, 0, &resp)) == 0)
		*proposal = (uint64_t)json_integer_value(json_object_get(resp, "proposal"));
	json_decref(resp);
	return rc;
}

int src_dispose_approve(cli_src *s, uint64_t proposal, uint64_t *seq)
{
	json_t *req, *resp = NULL;
	int rc;

	if (s->a != NULL)
		return eakte_dispose_approve(s->a, proposal, NULL, seq);
	req = req_new("dispose-approve");
	if (req && json_object_set_new(req, "proposal", json_integer((json_int_t)proposal)) < 0) {
		json_decref(req);
		req = NULL;
	}
	if ((rc = write_op(s, req, NULL, 0, &resp)) == 0)
		*seq = (uint64_t)json_integer_value(json_object_get(resp, "seq"));
	json_decref(resp);
	return rc;
}
