/*
 * serve.c - one client connection; see serve.h and schema/protocol-v1.md.
 */
#include "serve.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define MAX_FDS EAKTE_CLIENT_MAX_FDS

typedef struct {
	int fd;
	uint64_t at;              /* stream offset of the byte it came with */
} pending_fd;

typedef struct {
	const serve_ctx *ctx;
	int sock;
	char *buf;
	size_t len, cap;
	uint64_t consumed;        /* stream offset of buf[0] */
	pending_fd pend[MAX_FDS + 8];
	size_t npend;
	int fd_overflow;          /* more descriptors than allowed arrived */
	char user[64];
	char actor[96];           /* as the journal records it: unix:UID:NAME */
	char refused[16][24];     /* operations whose refusal was journaled */
	size_t nrefused;
	unsigned int roles;
	uid_t uid;
} conn;

/* ---- responses ---- */

static int send_all(int sock, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(sock, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int respond(conn *c, json_t *id, json_t *body)
{
	char *s;
	int rc;

	json_object_set_new(body, "v", json_integer(1));
	if (id != NULL)
		json_object_set(body, "id", id);
	s = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(body);
	if (s == NULL)
		return -1;
	size_t n = strlen(s);
	s[n] = '\n';   /* json_dumps leaves room only for NUL: use it */
	rc = send_all(c->sock, s, n + 1);
	free(s);
	return rc;
}

static int respond_error(conn *c, json_t *id, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int respond_error(conn *c, json_t *id, int code, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return respond(c, id, json_pack("{s:b, s:{s:i, s:s, s:s}}", "ok", 0, "error", "code", code,
		"name", eakte_error_name(code), "message", msg));
}

static int respond_lib_error(conn *c, json_t *id, int rc)
{
	return respond_error(c, id, rc, "%s", eakte_error_last()[0] ? eakte_error_last() : eakte_error_name(rc));
}

/* ---- requests ---- */

static const char *opt_str(json_t *req, const char *key)
{
	return json_string_value(json_object_get(req, key));
}

/* "meta": ["K=V", ...] as a NULL-free array of borrowed strings. */
static int str_list(json_t *req, const char *key, const char ***out, size_t *n)
{
	json_t *a = json_object_get(req, key), *v;
	size_t i;

	*out = NULL;
	*n = 0;
	if (a == NULL)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > 4096)
		return -1;
	*out = calloc(json_array_size(a) + 1, sizeof(**out));
	if (*out == NULL)
		return -1;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v)) {
			free(*out);
			*out = NULL;
			return -1;
		}
		(*out)[i] = json_string_value(v);
	}
	*n = json_array_size(a);
	return 0;
}

/*
 * Refusals are journaled, so that an auditor sees who tried what without
 * permission.  So that a user cannot fill the journal with them, each
 * connection records each operation once, and all connections together at
 * most REFUSALS_PER_MINUTE; the rest go to the daemon's log only.
 */
#define REFUSALS_PER_MINUTE 60

static pthread_mutex_t refusal_mu = PTHREAD_MUTEX_INITIALIZER;
static time_t refusal_window;
static unsigned int refusal_count;

typedef struct {
	const char *actor, *op, *reason;
} refusal;

static int refusal_call(eakte_archive *a, void *arg)
{
	refusal *r = arg;
	return eakte_journal_refusal(a, r->actor, r->op, r->reason);
}

static int refusal_allowed(conn *c, const char *op)
{
	time_t now = time(NULL);
	int ok;

	for (size_t i = 0; i < c->nrefused; i++)
		if (strcmp(c->refused[i], op) == 0)
			return 0;
	if (c->nrefused < sizeof(c->refused) / sizeof(c->refused[0]))
		snprintf(c->refused[c->nrefused++], sizeof(c->refused[0]), "%s", op);
	pthread_mutex_lock(&refusal_mu);
	if (now / 60 != refusal_window) {
		refusal_window = now / 60;
		refusal_count = 0;
	}
	ok = refusal_count < REFUSALS_PER_MINUTE;
	if (ok)
		refusal_count++;
	pthread_mutex_unlock(&refusal_mu);
	return ok;
}

static int need(conn *c, json_t *id, const char *op, unsigned int roles, const char *names)
{
	char have[128], msg[512];

	if (c->roles & roles)
		return 1;
	dconf_role_names(c->roles, have, sizeof(have));
	snprintf(msg, sizeof(msg), "permission denied: %s needs the role %s; user %s has: %s", op, names, c->user, have);
	if (refusal_allowed(c, op)) {
		refusal r = { c->actor, op, msg };
		wjob job;
		memset(&job, 0, sizeof(job));
		job.call = refusal_call;
		job.arg = &r;
		writer_submit(c->ctx->writer, &job);
		if (job.rc < 0)
			fprintf(stderr, "eakted: could not journal the refusal of %s to %s: %s\n", op, c->actor, job.error);
	} else {
		fprintf(stderr, "eakted: %s (%s; not journaled: once per connection and operation, "
			"at most %d a minute)\n", msg, c->actor, REFUSALS_PER_MINUTE);
	}
	respond_error(c, id, EAKTE_EPOLICY, "%s (roles come from Unix groups in the [roles] section of the "
		"daemon's configuration)", msg);
	return 0;
}

#define READ_ROLES (ROLE_READER | ROLE_CLERK | ROLE_AUDITOR | ROLE_RECORDS | ROLE_ADMIN)
#define WRITE_ROLES (ROLE_CLERK | ROLE_RECORDS | ROLE_ADMIN)
/* Retention, holds and disposal: records managers (and admins). */
#define RECORDS_ROLES (ROLE_RECORDS | ROLE_ADMIN)
#define RECORDS_NAMES "records or admin"

static int open_read(conn *c, json_t *id, eakte_archive **a)
{
	/* The daemon's extractor extracts text; a read never waits for it. */
	int rc = eakte_archive_open(a, c->ctx->conf->archive, EAKTE_OPEN_READ | EAKTE_OPEN_NO_EXTRACT);
	if (rc < 0)
		respond_lib_error(c, id, rc);
	return rc;
}

static int op_hello(conn *c, json_t *id)
{
	char roles[128];

	dconf_role_names(c->roles, roles, sizeof(roles));
	return respond(c, id, json_pack("{s:b, s:s, s:s, s:s, s:i}", "ok", 1, "user", c->user, "roles", roles,
		"server", eakte_version(), "protocol", 1));
}

static int op_search(conn *c, json_t *id, json_t *req)
{
	eakte_search_options so = EAKTE_SEARCH_OPTIONS_INIT;
	eakte_archive *a = NULL;
	json_t *q = json_object_get(req, "query");
	char *out = NULL;
	int rc;

	if (!need(c, id, "search", READ_ROLES, "reader, clerk, auditor, records or admin"))
		return 0;
	so.query = json_string_value(q);
	so.query_len = json_string_length(q);
	so.akte = opt_str(req, "akte");
	so.plan = opt_str(req, "plan");
	so.from = opt_str(req, "from");
	so.to = opt_str(req, "to");
	so.mime = opt_str(req, "type");
	so.sort = opt_str(req, "sort");
	so.limit = (size_t)json_integer_value(json_object_get(req, "limit"));
	so.offset = (size_t)json_integer_value(json_object_get(req, "offset"));
	if (json_integer_value(json_object_get(req, "limit")) < 0 || json_integer_value(json_object_get(req, "offset")) < 0)
		return respond_error(c, id, EAKTE_EINVALID, "limit and offset must not be negative");
	if (str_list(req, "meta", (const char ***)&so.meta, &so.meta_count) < 0)
		return respond_error(c, id, EAKTE_EINVALID, "\"meta\" must be an array of \"KEY=VALUE\" strings");
	if ((rc = open_read(c, id, &a)) == 0) {
		if ((rc = eakte_search(&out, a, &so)) < 0)
			respond_lib_error(c, id, rc);
		else
			rc = respond(c, id, json_pack("{s:b, s:s}", "ok", 1, "json", out));
	}
	eakte_free(out);
	eakte_archive_free(a);
	free((void *)so.meta);
	return 0;
}

static int op_show(conn *c, json_t *id, json_t *req)
{
	eakte_archive *a = NULL;
	eakte_doc *d = NULL;
	const char *doc = opt_str(req, "doc");
	json_int_t version = json_integer_value(json_object_get(req, "version"));
	char *out = NULL;
	int rc;

	if (!need(c, id, "show", READ_ROLES, "reader, clerk, auditor, records or admin"))
		return 0;
	if (doc == NULL)
		return respond_error(c, id, EAKTE_EINVALID, "show needs \"doc\"");
	if (version < 0 || version > UINT32_MAX)
		return respond_error(c, id, EAKTE_EINVALID, "\"version\" must be 1 or more");
	if (open_read(c, id, &a) < 0)
		return 0;
	rc = version > 0 ? eakte_doc_lookup_version(&d, a, doc, (unsigned int)version) : eakte_doc_lookup(&d, a, doc);
	if (rc < 0 || (rc = eakte_doc_to_json(&out, d)) < 0)
		respond_lib_error(c, id, rc);
	else
		respond(c, id, json_pack("{s:b, s:s}", "ok", 1, "json", out));
	eakte_free(out);
	eakte_doc_free(d);
	eakte_archive_free(a);
	return 0;
}

static int op_file(conn *c, json_t *id, json_t *req, const int *fds, size_t nfds)
{
	json_t *docs = json_object_get(req, "docs"), *d;
	eakte_file_options *opts = NULL;
	const char ***metas = NULL;
	char (*ids)[EAKTE_ID_LEN + 1] = NULL;
	eakte_staged **staged = NULL;
	int *order = NULL;
	wjob job;
	size_t n, i;

	if (!need(c, id, "file", WRITE_ROLES, "clerk, records or admin"))
		return 0;
	n = json_array_size(docs);
	if (!json_is_array(docs) || n == 0 || n > MAX_FDS)
		return respond_error(c, id, EAKTE_EINVALID, "file needs \"docs\": 1 to %d documents", MAX_FDS);
	opts = calloc(n, sizeof(*opts));
	metas = calloc(n, sizeof(*metas));
	ids = calloc(n, sizeof(*ids));
	order = calloc(n, sizeof(*order));
	staged = calloc(n, sizeof(*staged));
	if (opts == NULL || metas == NULL || ids == NULL || order == NULL || staged == NULL) {
		respond_error(c, id, EAKTE_ENOMEM, "out of memory for %zu documents", n);
		goto out;
	}
	json_array_foreach(docs, i, d) {
		json_int_t k = json_integer_value(json_object_get(d, "fd"));
		json_int_t vorgang = json_integer_value(json_object_get(d, "vorgang"));
		struct stat st;
		eakte_file_options o = EAKTE_FILE_OPTIONS_INIT;

		if (!json_is_object(d) || !json_is_integer(json_object_get(d, "fd")) || k < 0 || (size_t)k >= nfds) {
			respond_error(c, id, EAKTE_EINVALID, "document %zu: \"fd\" must name one of the %zu descriptors "
				"sent with the request", i + 1, nfds);
			goto out;
		}
		if (fstat(fds[k], &st) != 0 || !S_ISREG(st.st_mode)) {
			respond_error(c, id, EAKTE_EINVALID, "document %zu: the descriptor is not a regular file", i + 1);
			goto out;
		}
		if (vorgang < 0) {
			respond_error(c, id, EAKTE_EINVALID, "document %zu: \"vorgang\" must be 1 or more", i + 1);
			goto out;
		}
		if (str_list(d, "meta", &metas[i], &o.meta_count) < 0) {
			respond_error(c, id, EAKTE_EINVALID, "document %zu: \"meta\" must be an array of \"KEY=VALUE\" strings", i + 1);
			goto out;
		}
		o.meta = metas[i];
		o.akte = opt_str(d, "akte");
		o.title = opt_str(d, "title");
		o.filename = opt_str(d, "filename");
		o.new_version_of = opt_str(d, "new_version_of");
		o.label = opt_str(d, "label");
		o.vorgang = vorgang;
		o.actor = c->actor;   /* from SO_PEERCRED, never from the request */
		opts[i] = o;
		order[i] = fds[k];
	}
	/* The content goes into the store here, on this connection's thread,
	 * while the writer commits other requests: the writer only commits,
	 * and a large document delays nobody else's acknowledgement. */
	for (i = 0; i < n; i++) {
		int rc;
		/* The whole file, whatever the client's offset. */
		if (lseek(order[i], 0, SEEK_SET) < 0) {
			respond_error(c, id, EAKTE_EIO, "document %zu: cannot read it from its start: %s; "
				"nothing of this batch was filed", i + 1, strerror(errno));
			goto out;
		}
		rc = writer_stage(c->ctx->writer, order[i], opts[i].label, &staged[i]);
		if (rc < 0) {
			respond_error(c, id, rc, "%s; nothing of this batch was filed", eakte_error_last());
			goto out;
		}
	}
	memset(&job, 0, sizeof(job));
	job.n = n;
	job.fds = order;
	job.opts = opts;
	job.staged = staged;
	job.ids = ids;
	writer_submit(c->ctx->writer, &job);
	if (job.rc < 0) {
		respond_error(c, id, job.rc, "%s", job.error);
	} else {
		json_t *arr = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(arr, json_string(ids[i]));
		respond(c, id, json_pack("{s:b, s:o}", "ok", 1, "ids", arr));
	}
out:
	for (i = 0; metas != NULL && i < n; i++)
		free(metas[i]);
	for (i = 0; staged != NULL && i < n; i++)
		eakte_staged_free(staged[i]);
	free(staged);
	free(metas);
	free(opts);
	free(ids);
	free(order);
	return 0;
}

#define AUDIT_ROLES (ROLE_AUDITOR | ROLE_ADMIN)
#define AUDIT_NAMES "auditor or admin"
#define READ_NAMES "reader, clerk, auditor, records or admin"
#define WRITE_NAMES "clerk, records or admin"

/* op "read": the JSON or text of one of libeakte's read functions. */
static int op_read(conn *c, json_t *id, json_t *req)
{
	const char *what = opt_str(req, "what"), *arg = opt_str(req, "arg");
	json_int_t num = json_integer_value(json_object_get(req, "num"));
	eakte_archive *a = NULL;
	char *out = NULL;
	int rc, audit;

	if (what == NULL)
		return respond_error(c, id, EAKTE_EINVALID, "read needs \"what\"");
	audit = strcmp(what, "checkpoint") == 0 || strcmp(what, "proof") == 0 || strcmp(what, "verifier-key") == 0;
	if (audit ? !need(c, id, what, AUDIT_ROLES, AUDIT_NAMES) : !need(c, id, what, READ_ROLES, READ_NAMES))
		return 0;
	if (open_read(c, id, &a) < 0)
		return 0;
	if (strcmp(what, "plan") == 0)
		rc = eakte_plan_json(&out, a, arg);
	else if (strcmp(what, "akte") == 0 && arg)
		rc = eakte_akte_json(&out, a, arg);
	else if (strcmp(what, "akten") == 0 && num >= 0 && num <= 2)
		rc = eakte_akte_list_json(&out, a, arg, (int)num);
	else if (strcmp(what, "tree") == 0)
		rc = eakte_tree_json(&out, a);
	else if (strcmp(what, "history") == 0 && arg)
		rc = eakte_doc_history_json(&out, a, arg);
	else if (strcmp(what, "doc-index") == 0 && arg)
		rc = eakte_doc_index_json(&out, a, arg);
	else if (strcmp(what, "doc") == 0 && arg && num >= 0 && num <= UINT32_MAX) {
		eakte_doc *d = NULL;
		rc = num > 0 ? eakte_doc_lookup_version(&d, a, arg, (unsigned int)num) : eakte_doc_lookup(&d, a, arg);
		if (rc == 0)
			rc = eakte_doc_to_json(&out, d);
		eakte_doc_free(d);
	} else if (strcmp(what, "checkpoint") == 0)
		rc = eakte_checkpoint_latest(&out, a);
	else if (strcmp(what, "verifier-key") == 0)
		rc = eakte_archive_verifier_key(&out, a);
	else if (strcmp(what, "proof") == 0 && num >= 0)
		rc = eakte_proof_inclusion(&out, a, (uint64_t)num);
	else if (strcmp(what, "retention") == 0 && arg)
		rc = eakte_retention_json(&out, a, arg);
	else if (strcmp(what, "retention-due") == 0)
		rc = eakte_retention_due_json(&out, a, arg);
	else if (strcmp(what, "holds") == 0)
		rc = eakte_hold_list_json(&out, a, arg, num != 0);
	else if (strcmp(what, "proposals") == 0)
		rc = eakte_dispose_list_json(&out, a);
	else {
		eakte_archive_free(a);
		return respond_error(c, id, EAKTE_EINVALID, "read: unknown \"what\" or missing argument "
			"(plan, akte, akten, tree, history, doc-index, doc, checkpoint, verifier-key, proof, retention, "
			"retention-due, holds, proposals)");
	}
	if (rc < 0)
		respond_lib_error(c, id, rc);
	else
		respond(c, id, json_pack("{s:b, s:s}", "ok", 1, "json", out));
	eakte_free(out);
	eakte_archive_free(a);
	return 0;
}

/* op "get": the content of a document, written into the descriptor sent. */
static int op_get(conn *c, json_t *id, json_t *req, const int *fds, size_t nfds)
{
	const char *doc = opt_str(req, "doc");
	json_int_t version = json_integer_value(json_object_get(req, "version"));
	eakte_archive *a = NULL;
	eakte_doc *d = NULL;
	int rc;

	if (!need(c, id, "get", READ_ROLES, READ_NAMES))
		return 0;
	if (doc == NULL || nfds != 1 || version < 0 || version > UINT32_MAX)
		return respond_error(c, id, EAKTE_EINVALID, "get needs \"doc\", an optional \"version\" and one descriptor to write to");
	if (open_read(c, id, &a) < 0)
		return 0;
	if ((rc = eakte_doc_lookup_version(&d, a, doc, (unsigned int)version)) < 0 ||
	    (rc = eakte_doc_read_to_fd(a, d, fds[0])) < 0)
		respond_lib_error(c, id, rc);
	else
		respond(c, id, json_pack("{s:b}", "ok", 1));
	eakte_doc_free(d);
	eakte_archive_free(a);
	return 0;
}

typedef struct {
	int fd;
	int err;
} log_out;

/* One event per line: seq, time, actor, action, subject, commit, leaf and
 * the canonical event, separated by tabs (none of them holds a tab or a
 * newline: canonical JSON escapes control characters). */
static int log_line(const eakte_event *e, void *payload)
{
	log_out *o = payload;
	char *line = NULL;
	int n = asprintf(&line, "%" PRIu64 "\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
		e->seq, e->time, e->actor, e->action, e->subject, e->commit, e->leaf_hash, e->json);

	if (n < 0)
		return 1;
	for (size_t done = 0; done < (size_t)n;) {
		ssize_t w = write(o->fd, line + done, (size_t)n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			o->err = errno;
			free(line);
			return 1;
		}
		done += (size_t)w;
	}
	free(line);
	return 0;
}

static int op_log(conn *c, json_t *id, json_t *req, const int *fds, size_t nfds)
{
	json_int_t from = json_integer_value(json_object_get(req, "from"));
	eakte_archive *a = NULL;
	log_out o = { -1, 0 };
	int rc;

	if (!need(c, id, "log", AUDIT_ROLES, AUDIT_NAMES))
		return 0;
	if (nfds != 1 || from < 0)
		return respond_error(c, id, EAKTE_EINVALID, "log needs \"from\" (0 or more) and one descriptor to write to");
	if (open_read(c, id, &a) < 0)
		return 0;
	o.fd = fds[0];
	rc = eakte_journal_foreach(a, (uint64_t)from, log_line, &o);
	if (rc < 0)
		respond_lib_error(c, id, rc);
	else if (rc > 0)
		respond_error(c, id, EAKTE_EIO, "cannot write the journal to the client: %s", strerror(o.err ? o.err : EPIPE));
	else
		respond(c, id, json_pack("{s:b}", "ok", 1));
	eakte_archive_free(a);
	return 0;
}

static int op_verify(conn *c, json_t *id, json_t *req)
{
	eakte_verify_options vo = EAKTE_VERIFY_OPTIONS_INIT;
	eakte_verify_report *r = NULL;
	eakte_archive *a = NULL;
	char *out = NULL;
	int rc;

	if (!need(c, id, "verify", AUDIT_ROLES, AUDIT_NAMES))
		return 0;
	vo.quick = json_is_true(json_object_get(req, "quick"));
	vo.since = opt_str(req, "since");
	vo.since_len = vo.since ? json_string_length(json_object_get(req, "since")) : 0;
	if (open_read(c, id, &a) < 0)
		return 0;
	if ((rc = eakte_verify(&r, a, &vo)) < 0 || (rc = eakte_verify_report_to_json(&out, r)) < 0)
		respond_lib_error(c, id, rc);
	else
		respond(c, id, json_pack("{s:b, s:s, s:b, s:s}", "ok", 1, "json", out, "passed", eakte_verify_report_ok(r),
			"failure", eakte_verify_report_failure(r)));
	eakte_free(out);
	eakte_verify_report_free(r);
	eakte_archive_free(a);
	return 0;
}

/* ---- export: built on this thread from a read view, journaled by the writer ---- */

#define EXPORT_ROLES (ROLE_AUDITOR | ROLE_RECORDS | ROLE_ADMIN)
#define EXPORT_NAMES "auditor, records or admin"

typedef struct {
	eakte_export_options *eo;
	eakte_export_result *res;
} export_call;

static int run_export_record(eakte_archive *a, void *arg)
{
	export_call *x = arg;
	return eakte_export_record(a, x->eo, x->res);
}

/* op "export": the package is written into the descriptor sent (a file the
 * client renames into place), then the export event is journaled. */
static int op_export(conn *c, json_t *id, json_t *req, const int *fds, size_t nfds)
{
	eakte_export_options eo = EAKTE_EXPORT_OPTIONS_INIT;
	eakte_export_result res;
	const char *format = opt_str(req, "format");
	export_call x = { &eo, &res };
	eakte_archive *a = NULL;
	wjob job;
	int rc;

	if (!need(c, id, "export", EXPORT_ROLES, EXPORT_NAMES))
		return 0;
	eo.akte = opt_str(req, "akte");
	eo.actor = c->actor;
	eo.recipient = opt_str(req, "recipient");
	if (eo.akte == NULL || nfds != 1 || (format != NULL && strcmp(format, "tar") != 0 && strcmp(format, "zip") != 0 &&
			strcmp(format, "xdomea") != 0) || (eo.recipient != NULL && (format == NULL || strcmp(format, "xdomea") != 0)))
		return respond_error(c, id, EAKTE_EINVALID, "export needs \"akte\", an optional \"format\" (tar, zip or xdomea), "
			"\"recipient\" only with xdomea, and one descriptor to write to");
	eo.format = format == NULL || strcmp(format, "tar") == 0 ? EAKTE_PACKAGE_TAR
		: strcmp(format, "zip") == 0 ? EAKTE_PACKAGE_ZIP : EAKTE_PACKAGE_XDOMEA;
	if (open_read(c, id, &a) < 0)
		return 0;
	rc = eakte_export_write(&res, a, &eo, fds[0]);
	eakte_archive_free(a);
	if (rc < 0)
		return respond_lib_error(c, id, rc);
	if (fsync(fds[0]) < 0 && errno != EINVAL)
		return respond_error(c, id, EAKTE_EIO, "cannot sync the package file: %s", strerror(errno));
	memset(&job, 0, sizeof(job));
	job.call = run_export_record;
	job.arg = &x;
	writer_submit(c->ctx->writer, &job);
	/* An event that may be in the journal must not lose its package: the
	 * client links the file only on success, so this is one (the daemon's
	 * log has the error). */
	if (job.rc < 0 && res.maybe_recorded)
		fprintf(stderr, "eakted: export of %s by %s: %s; the package was kept\n", eo.akte, c->actor, job.error);
	else if (job.rc < 0)
		return respond_error(c, id, job.rc, "%s", job.error);
	return respond(c, id, json_pack("{s:b, s:s, s:I, s:I, s:I, s:I, s:I}", "ok", 1, "sha256", res.sha256,
		"size", (json_int_t)res.size, "checkpoint", (json_int_t)res.checkpoint, "events", (json_int_t)res.events,
		"documents", (json_int_t)res.documents, "seq", (json_int_t)res.seq));
}

/* ---- writes other than filing: run alone on the writer's archive ---- */

typedef struct {
	const char *op;
	json_t *req;
	const char *actor;
	const int *fds;
	size_t nfds;
	json_t *result;          /* fields for the response */
	char err[512];           /* an error of the daemon's own (else libeakte's) */
} write_call;

static int write_fail(write_call *w, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int write_fail(write_call *w, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	return code;
}

#define PLAN_MAX (16u << 20)

/* The whole content of `fd`, at most `max` bytes. */
static int read_fd_all(write_call *w, int fd, char **out, size_t *len, size_t max)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap + 1);

	*out = NULL;
	if (buf == NULL)
		return write_fail(w, EAKTE_ENOMEM, "out of memory reading the file");
	for (;;) {
		ssize_t r;
		if (n == cap) {
			char *nb;
			if (cap > max) {
				free(buf);
				return write_fail(w, EAKTE_EINVALID, "the file is larger than %zu bytes", max);
			}
			nb = realloc(buf, cap * 2 + 1);
			if (nb == NULL) {
				free(buf);
				return write_fail(w, EAKTE_ENOMEM, "out of memory reading the file");
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			return write_fail(w, EAKTE_EIO, "cannot read the file: %s", strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		free(buf);
		return write_fail(w, EAKTE_EINVALID, "the file is larger than %zu bytes", max);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static int run_write(eakte_archive *a, void *arg)
{
	write_call *w = arg;
	json_t *req = w->req;
	const char *op = w->op;
	int rc;

	if (strcmp(op, "akte-create") == 0) {
		eakte_akte_options ao = EAKTE_AKTE_OPTIONS_INIT;
		char *az = NULL;
		ao.plan = opt_str(req, "plan");
		ao.title = opt_str(req, "title");
		ao.az = opt_str(req, "az");
		ao.actor = w->actor;
		if ((rc = eakte_akte_create(a, &ao, &az)) == 0)
			w->result = json_pack("{s:s}", "az", az);
		eakte_free(az);
	} else if (strcmp(op, "vorgang-create") == 0) {
		int64_t n = 0;
		if ((rc = eakte_vorgang_create(a, opt_str(req, "az"), opt_str(req, "title"), w->actor, &n)) == 0)
			w->result = json_pack("{s:I}", "vorgang", (json_int_t)n);
	} else if (strcmp(op, "akte-close") == 0) {
		rc = eakte_akte_close(a, opt_str(req, "az"), opt_str(req, "date"), w->actor);
	} else if (strcmp(op, "akte-reopen") == 0) {
		rc = eakte_akte_reopen(a, opt_str(req, "az"), w->actor);
	} else if (strcmp(op, "meta-set") == 0) {
		const char **items = NULL;
		size_t n = 0;
		if (str_list(req, "items", &items, &n) < 0)
			return write_fail(w, EAKTE_EINVALID, "\"items\" must be an array of \"KEY=VALUE\" strings");
		rc = eakte_meta_set(a, opt_str(req, "doc"), opt_str(req, "title"), items, n, w->actor);
		free(items);
	} else if (strcmp(op, "plan-import") == 0) {
		char *buf = NULL;
		size_t len = 0, count = 0;
		if (w->nfds != 1)
			return write_fail(w, EAKTE_EINVALID, "plan-import needs the file as one descriptor");
		if ((rc = read_fd_all(w, w->fds[0], &buf, &len, PLAN_MAX)) < 0)
			return rc;
		if ((rc = eakte_plan_import(a, buf, len, opt_str(req, "name") ? opt_str(req, "name") : "plan", w->actor, &count)) == 0)
			w->result = json_pack("{s:I}", "count", (json_int_t)count);
		free(buf);
	} else if (strcmp(op, "import") == 0) {
		eakte_import_options io = EAKTE_IMPORT_OPTIONS_INIT;
		eakte_import_result ir;
		json_t *key = json_object_get(req, "key");
		if (w->nfds != 1)
			return write_fail(w, EAKTE_EINVALID, "import needs the package file as one descriptor");
		io.as = opt_str(req, "as");
		io.actor = w->actor;
		io.package.key = json_string_value(key);
		io.package.key_len = key ? json_string_length(key) : 0;
		if ((rc = eakte_import(&ir, a, w->fds[0], &io)) == 0)
			w->result = json_pack("{s:s, s:I, s:I, s:I, s:s}", "az", ir.az, "seq", (json_int_t)ir.seq,
				"events", (json_int_t)ir.events, "documents", (json_int_t)ir.documents, "fingerprint", ir.fingerprint);
	} else if (strcmp(op, "retention-set") == 0) {
		json_t *y = json_object_get(req, "years");
		if (!json_is_integer(y) || json_integer_value(y) < -1 || json_integer_value(y) > 200)
			return write_fail(w, EAKTE_EINVALID, "retention-set needs \"years\": 0 to 200, or -1 for unbefristet");
		rc = eakte_retention_set(a, opt_str(req, "az"), (int)json_integer_value(y), opt_str(req, "reason"), w->actor);
	} else if (strcmp(op, "hold-set") == 0) {
		uint64_t hold = 0;
		if ((rc = eakte_hold_set(a, opt_str(req, "az"), opt_str(req, "reason"), opt_str(req, "case"), w->actor, &hold)) == 0)
			w->result = json_pack("{s:I}", "hold", (json_int_t)hold);
	} else if (strcmp(op, "hold-release") == 0) {
		json_t *h = json_object_get(req, "hold");
		if (!json_is_integer(h) || json_integer_value(h) < 0)
			return write_fail(w, EAKTE_EINVALID, "hold-release needs \"hold\": the hold's id");
		rc = eakte_hold_release(a, opt_str(req, "az"), (uint64_t)json_integer_value(h), opt_str(req, "reason"), w->actor);
	} else if (strcmp(op, "dispose-propose") == 0) {
		uint64_t p = 0;
		if ((rc = eakte_dispose_propose(a, opt_str(req, "az"), opt_str(req, "reason"), w->actor, &p)) == 0)
			w->result = json_pack("{s:I}", "proposal", (json_int_t)p);
	} else if (strcmp(op, "dispose-approve") == 0) {
		json_t *p = json_object_get(req, "proposal");
		uint64_t seq = 0;
		if (!json_is_integer(p) || json_integer_value(p) < 0)
			return write_fail(w, EAKTE_EINVALID, "dispose-approve needs \"proposal\": the proposal's id");
		/* The approver is the peer of this connection (SO_PEERCRED): the
		 * four-eyes rule compares it with the proposal's actor. */
		if ((rc = eakte_dispose_approve(a, (uint64_t)json_integer_value(p), w->actor, &seq)) == 0)
			w->result = json_pack("{s:I}", "seq", (json_int_t)seq);
	} else if (strcmp(op, "reindex") == 0) {
		if ((rc = eakte_reindex(a)) == 0)
			w->result = json_pack("{s:I}", "events", (json_int_t)eakte_archive_size(a));
	} else {
		return write_fail(w, EAKTE_EINVALID, "unknown write \"%s\"", op);
	}
	return rc;
}

static int op_write(conn *c, json_t *id, const char *op, json_t *req, const int *fds, size_t nfds)
{
	int admin = strcmp(op, "plan-import") == 0 || strcmp(op, "reindex") == 0;
	int records = strcmp(op, "retention-set") == 0 || strncmp(op, "hold-", 5) == 0 || strncmp(op, "dispose-", 8) == 0;
	write_call wc = { op, req, c->actor, fds, nfds, NULL, "" };
	wjob job;

	if (strcmp(op, "import") == 0 ? !need(c, id, op, ROLE_RECORDS | ROLE_ADMIN, "records or admin") :
	    admin ? !need(c, id, op, ROLE_ADMIN, "admin") :
	    records ? !need(c, id, op, RECORDS_ROLES, RECORDS_NAMES) : !need(c, id, op, WRITE_ROLES, WRITE_NAMES))
		return 0;
	memset(&job, 0, sizeof(job));
	job.call = run_write;
	job.arg = &wc;
	writer_submit(c->ctx->writer, &job);
	if (job.rc < 0) {
		json_decref(wc.result);
		return respond_error(c, id, job.rc, "%s", wc.err[0] ? wc.err : job.error);
	}
	if (wc.result == NULL)
		wc.result = json_object();
	json_object_set_new(wc.result, "ok", json_true());
	return respond(c, id, wc.result);
}

static void handle(conn *c, const char *line, size_t len, const int *fds, size_t nfds)
{
	json_error_t je;
	json_t *req = json_loadb(line, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &je), *id = NULL;
	const char *op;

	if (req == NULL || !json_is_object(req)) {
		if (req == NULL)
			respond_error(c, NULL, EAKTE_EINVALID, "the request is not JSON: %s at column %d", je.text, je.column);
		else
			respond_error(c, NULL, EAKTE_EINVALID, "the request must be a JSON object");
		json_decref(req);
		return;
	}
	id = json_object_get(req, "id");
	if (id != NULL && !json_is_integer(id) && !json_is_string(id))
		id = NULL;
	op = opt_str(req, "op");
	if (json_integer_value(json_object_get(req, "v")) != 1)
		respond_error(c, id, EAKTE_EVERSION, "unsupported protocol version (this daemon speaks \"v\": 1)");
	else if (op == NULL)
		respond_error(c, id, EAKTE_EINVALID, "the request has no \"op\"");
	else if (strcmp(op, "hello") == 0)
		op_hello(c, id);
	else if (strcmp(op, "search") == 0)
		op_search(c, id, req);
	else if (strcmp(op, "show") == 0)
		op_show(c, id, req);
	else if (strcmp(op, "file") == 0)
		op_file(c, id, req, fds, nfds);
	else if (strcmp(op, "read") == 0)
		op_read(c, id, req);
	else if (strcmp(op, "get") == 0)
		op_get(c, id, req, fds, nfds);
	else if (strcmp(op, "log") == 0)
		op_log(c, id, req, fds, nfds);
	else if (strcmp(op, "verify") == 0)
		op_verify(c, id, req);
	else if (strcmp(op, "export") == 0)
		op_export(c, id, req, fds, nfds);
	else if (strcmp(op, "akte-create") == 0 || strcmp(op, "vorgang-create") == 0 || strcmp(op, "akte-close") == 0 ||
		 strcmp(op, "akte-reopen") == 0 || strcmp(op, "meta-set") == 0 || strcmp(op, "plan-import") == 0 ||
		 strcmp(op, "reindex") == 0 || strcmp(op, "import") == 0 || strcmp(op, "retention-set") == 0 ||
		 strcmp(op, "hold-set") == 0 || strcmp(op, "hold-release") == 0 || strcmp(op, "dispose-propose") == 0 ||
		 strcmp(op, "dispose-approve") == 0)
		op_write(c, id, op, req, fds, nfds);
	else
		respond_error(c, id, EAKTE_EINVALID, "unknown op \"%.64s\" (ops: hello, search, show, read, get, log, "
			"verify, export, import, file, akte-create, vorgang-create, akte-close, akte-reopen, meta-set, plan-import, reindex, "
			"retention-set, hold-set, hold-release, dispose-propose, dispose-approve)", op);
	json_decref(req);
}

/* ---- reading ---- */

static void close_pending(conn *c)
{
	for (size_t i = 0; i < c->npend; i++)
		close(c->pend[i].fd);
	c->npend = 0;
}

/* Receive more bytes (and descriptors).  0 on EOF, -1 on error or timeout. */
static ssize_t receive(conn *c)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * (MAX_FDS + 8))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr msg;
	ssize_t n;

	if (c->cap - c->len < 65536) {
		size_t cap = c->cap ? c->cap * 2 : 65536;
		char *nb = realloc(c->buf, cap);
		if (nb == NULL)
			return -1;
		c->buf = nb;
		c->cap = cap;
	}
	iov.iov_base = c->buf + c->len;
	iov.iov_len = c->cap - c->len;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	do
		n = recvmsg(c->sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *fds = (int *)CMSG_DATA(cm);
		for (size_t i = 0; i < k; i++) {
			if (c->npend == sizeof(c->pend) / sizeof(c->pend[0])) {
				close(fds[i]);
				c->fd_overflow = 1;
				continue;
			}
			c->pend[c->npend].fd = fds[i];
			c->pend[c->npend++].at = c->consumed + c->len;
		}
	}
	if (msg.msg_flags & MSG_CTRUNC)
		c->fd_overflow = 1;
	c->len += (size_t)n;
	return n;
}

void serve_connection(const serve_ctx *ctx, int sock)
{
	conn c;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct timeval tv;

	memset(&c, 0, sizeof(c));
	c.ctx = ctx;
	c.sock = sock;
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0) {
		close(sock);
		return;
	}
	c.uid = cred.uid;
	pthread_rwlock_rdlock(ctx->conf_lock);
	c.roles = dconf_roles_of(ctx->conf, cred.uid, c.user, sizeof(c.user));
	/* The same form as an embedded writer's actor (the calling Unix user). */
	if (strncmp(c.user, "uid:", 4) == 0)
		snprintf(c.actor, sizeof(c.actor), "unix:%u", (unsigned)cred.uid);
	else
		snprintf(c.actor, sizeof(c.actor), "unix:%u:%s", (unsigned)cred.uid, c.user);
	tv.tv_sec = ctx->conf->client_timeout_s;
	pthread_rwlock_unlock(ctx->conf_lock);
	tv.tv_usec = 0;
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (;;) {
		char *nl = c.len ? memchr(c.buf, '\n', c.len) : NULL;

		if (nl == NULL) {
			ssize_t n;
			if (c.len >= ctx->conf->request_max) {
				respond_error(&c, NULL, EAKTE_EINVALID, "request longer than %zu bytes; closing the connection",
					ctx->conf->request_max);
				break;
			}
			n = receive(&c);
			if (n <= 0)
				break;
			continue;
		}
		size_t len = (size_t)(nl - c.buf);
		uint64_t end = c.consumed + len;
		int fds[MAX_FDS + 8];
		size_t nfds = 0, keep = 0;

		/* The descriptors that came with this line's bytes. */
		for (size_t i = 0; i < c.npend; i++) {
			if (c.pend[i].at <= end)
				fds[nfds++] = c.pend[i].fd;
			else
				c.pend[keep++] = c.pend[i];
		}
		c.npend = keep;
		if (c.fd_overflow) {
			respond_error(&c, NULL, EAKTE_EINVALID, "more than %d descriptors in one request", MAX_FDS);
			c.fd_overflow = 0;
		} else if (len > 0) {
			handle(&c, c.buf, len, fds, nfds > MAX_FDS ? MAX_FDS : nfds);
		}
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		memmove(c.buf, nl + 1, c.len - len - 1);
		c.len -= len + 1;
		c.consumed += len + 1;
	}
	close_pending(&c);
	free(c.buf);
	close(sock);
}
