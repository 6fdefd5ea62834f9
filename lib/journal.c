/*
 * journal.c - reading the journal, write transactions, crash catch-up and
 * the derived leaf index.  The format and write order are described in
 * journal.h; docs/format.md has the same for people.
 */
#include "journal.h"
#include "life.h"
#include "cjson.h"
#include "encode.h"
#include "fsutil.h"
#include "note.h"
#include "sshsig.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>


#define INDEX_FILE "cache/journal.idx"
#define INDEX_RECORD (EAKTE_HASH_LEN + GIT_OID_RAWSZ)

static const char zero_hex[EAKTE_HASH_HEX_LEN + 1] =
	"0000000000000000000000000000000000000000000000000000000000000000";

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

int eakte_journal__head(git_oid *out, eakte_archive *a)
{
	int rc = git_reference_name_to_id(out, a->repo, EAKTE_JOURNAL_REF);

	if (rc == GIT_ENOTFOUND)
		return eakte_error__set(EAKTE_ENOTFOUND, "the archive has no journal (%s is missing)", EAKTE_JOURNAL_REF);
	if (rc < 0)
		return eakte_archive__git_error(EAKTE_EIO, "reading " EAKTE_JOURNAL_REF);
	return 0;
}

static char *dup_mem(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static int set_problem(eakte_jcommit *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int set_problem(eakte_jcommit *c, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(c->problem);
	c->problem = strdup(buf);
	return c->problem ? 0 : eakte_error__oom("reading a journal commit");
}

int eakte_journal__read_commit(eakte_jcommit *out, eakte_archive *a, const git_oid *id)
{
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_blob *blob = NULL;
	const git_tree_entry *entry;
	git_buf sig = GIT_BUF_INIT, signed_data = GIT_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	int rc = 0, grc;

	memset(out, 0, sizeof(*out));
	git_oid_tostr(hex, sizeof(hex), id);
	if (git_commit_lookup(&commit, a->repo, id) < 0)
		return eakte_archive__git_error(EAKTE_ECORRUPT, "reading journal commit");
	out->parents = git_commit_parentcount(commit);
	if (out->parents > 0)
		git_oid_cpy(&out->parent, git_commit_parent_id(commit, 0));
	if (git_commit_tree(&tree, commit) < 0) {
		rc = eakte_archive__git_error(EAKTE_ECORRUPT, "reading the tree of journal commit");
		goto out;
	}
	entry = git_tree_entry_byname(tree, "event.json");
	if (git_tree_entrycount(tree) != 1 || entry == NULL) {
		rc = set_problem(out, "commit %s does not have exactly one tree entry named event.json", hex);
		goto signature;
	}
	if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB ||
	    git_tree_entry_filemode(entry) != GIT_FILEMODE_BLOB) {
		rc = set_problem(out, "commit %s: event.json is not a regular blob", hex);
		goto signature;
	}
	if (git_blob_lookup(&blob, a->repo, git_tree_entry_id(entry)) < 0) {
		rc = eakte_archive__git_error(EAKTE_ECORRUPT, "reading event.json of a journal commit");
		goto out;
	}
	if ((size_t)git_blob_rawsize(blob) > EAKTE_EVENT_MAX) {
		rc = set_problem(out, "commit %s: event.json is larger than 1 MiB", hex);
		goto signature;
	}
	out->len = (size_t)git_blob_rawsize(blob);
	out->json = dup_mem(git_blob_rawcontent(blob), out->len);
	if (out->json == NULL) {
		rc = eakte_error__oom("reading an event");
		goto out;
	}
signature:
	if (rc < 0)
		goto out;
	grc = git_commit_extract_signature(&sig, &signed_data, a->repo, (git_oid *)id, "gpgsig");
	if (grc == 0) {
		out->signature = dup_mem(sig.ptr, sig.size);
		out->signature_len = sig.size;
		out->signed_data = dup_mem(signed_data.ptr, signed_data.size);
		out->signed_len = signed_data.size;
		if (out->signature == NULL || out->signed_data == NULL)
			rc = eakte_error__oom("reading a commit signature");
	} else if (grc != GIT_ENOTFOUND) {
		rc = eakte_archive__git_error(EAKTE_ECORRUPT, "extracting the signature of a journal commit");
	}
out:
	git_buf_dispose(&sig);
	git_buf_dispose(&signed_data);
	git_blob_free(blob);
	git_tree_free(tree);
	git_commit_free(commit);
	if (rc < 0)
		eakte_journal__jcommit_free(out);
	return rc;
}

void eakte_journal__jcommit_free(eakte_jcommit *c)
{
	free(c->json);
	free(c->signature);
	free(c->signed_data);
	free(c->problem);
	memset(c, 0, sizeof(*c));
}

int eakte_journal__list(git_oid **out, uint64_t *n, eakte_archive *a, const git_oid *head,
	const git_oid *stop)
{
	git_oid *list = NULL, cur;
	uint64_t len = 0, cap = 0, i;
	int found_stop = stop == NULL;

	*out = NULL;
	*n = 0;
	git_oid_cpy(&cur, head);
	for (;;) {
		git_commit *c;
		unsigned int parents;

		if (stop != NULL && git_oid_equal(&cur, stop)) {
			found_stop = 1;
			break;
		}
		if (len == cap) {
			git_oid *p;
			cap = cap ? cap * 2 : 1024;
			p = realloc(list, cap * sizeof(*list));
			if (p == NULL) {
				free(list);
				return eakte_error__oom("listing the journal");
			}
			list = p;
		}
		git_oid_cpy(&list[len++], &cur);
		if (git_commit_lookup(&c, a->repo, &cur) < 0) {
			char hex[GIT_OID_HEXSZ + 1];
			free(list);
			git_oid_tostr(hex, sizeof(hex), &cur);
			return eakte_archive__git_error(EAKTE_ECORRUPT, "reading journal commit");
		}
		parents = git_commit_parentcount(c);
		if (parents > 0)
			git_oid_cpy(&cur, git_commit_parent_id(c, 0));
		git_commit_free(c);
		if (parents == 0)
			break;
	}
	if (!found_stop) {
		free(list);
		return eakte_error__set(EAKTE_ECORRUPT,
			"the recorded journal position is not an ancestor of the journal head: the journal was rewritten");
	}
	for (i = 0; i < len / 2; i++) {
		git_oid t = list[i];
		list[i] = list[len - 1 - i];
		list[len - 1 - i] = t;
	}
	*out = list;
	*n = len;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Leaf index                                                          */
/* ------------------------------------------------------------------ */

static int index_grow(eakte_archive *a, uint64_t n)
{
	eakte_hash *l;
	git_oid *c;

	l = realloc(a->leaves, (n ? n : 1) * sizeof(*l));
	if (l == NULL)
		return eakte_error__oom("loading the journal index");
	a->leaves = l;
	c = realloc(a->commits, (n ? n : 1) * sizeof(*c));
	if (c == NULL)
		return eakte_error__oom("loading the journal index");
	a->commits = c;
	return 0;
}

static void index_save(eakte_archive *a, uint64_t from)
{
	uint8_t rec[INDEX_RECORD];
	uint64_t i;
	int fd;

	/* Derived data: best effort, never fsynced, validated on load. */
	if (mkdirat(a->dirfd, "cache", 0755) != 0 && errno != EEXIST)
		return;
	fd = openat(a->dirfd, INDEX_FILE, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	/* Readers save the cache too (the daemon's read views, its extractor,
	 * CLI readers): one at a time, or a truncation under another's append
	 * leaves a hole of zeros. */
	if (flock(fd, LOCK_EX) != 0 || ftruncate(fd, (off_t)(from * INDEX_RECORD)) != 0 || lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		return;
	}
	for (i = from; i < a->index_len; i++) {
		memcpy(rec, a->leaves[i], EAKTE_HASH_LEN);
		memcpy(rec + EAKTE_HASH_LEN, a->commits[i].id, GIT_OID_RAWSZ);
		if (eakte_fs__write_all(fd, rec, sizeof(rec), "the journal index") < 0)
			break;
	}
	close(fd);
}

int eakte_journal__load_index(eakte_archive *a)
{
	git_oid head, *fresh = NULL;
	uint64_t cached = 0, nfresh = 0, i;
	struct stat st;
	int fd, rc;

	if ((rc = eakte_journal__head(&head, a)) < 0)
		return rc;
	if (a->index_len > 0 && git_oid_equal(&a->commits[a->index_len - 1], &head))
		return 0;
	a->index_len = 0;
	fd = openat(a->dirfd, INDEX_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		uint64_t m = (uint64_t)st.st_size / INDEX_RECORD;
		uint8_t *buf = m ? malloc(m * INDEX_RECORD) : NULL;

		if (buf != NULL && flock(fd, LOCK_SH) == 0 && pread(fd, buf, m * INDEX_RECORD, 0) == (ssize_t)(m * INDEX_RECORD) &&
		    index_grow(a, m) == 0) {
			static const uint8_t zero[GIT_OID_RAWSZ];
			for (i = 0; i < m; i++) {
				/* A record of zeros is a hole, never a commit: trust
				 * only what comes before it (the rest is re-read). */
				if (memcmp(buf + i * INDEX_RECORD + EAKTE_HASH_LEN, zero, GIT_OID_RAWSZ) == 0)
					break;
				memcpy(a->leaves[i], buf + i * INDEX_RECORD, EAKTE_HASH_LEN);
				git_oid_fromraw(&a->commits[i], buf + i * INDEX_RECORD + EAKTE_HASH_LEN);
			}
			cached = i;
		}
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	rc = eakte_journal__list(&fresh, &nfresh, a, &head, cached ? &a->commits[cached - 1] : NULL);
	if (rc == EAKTE_ECORRUPT && cached > 0) {
		/* The cache describes another history: rebuild it. */
		cached = 0;
		rc = eakte_journal__list(&fresh, &nfresh, a, &head, NULL);
	}
	if (rc < 0)
		return rc;
	if ((rc = index_grow(a, cached + nfresh)) < 0) {
		free(fresh);
		return rc;
	}
	for (i = 0; i < nfresh; i++) {
		eakte_jcommit c;
		if ((rc = eakte_journal__read_commit(&c, a, &fresh[i])) < 0)
			break;
		if (c.json == NULL) {
			rc = eakte_error__set(EAKTE_ECORRUPT, "journal event %" PRIu64 ": %s", cached + i, c.problem);
			eakte_journal__jcommit_free(&c);
			break;
		}
		eakte_merkle__leaf_hash(a->leaves[cached + i], c.json, c.len);
		git_oid_cpy(&a->commits[cached + i], &fresh[i]);
		eakte_journal__jcommit_free(&c);
	}
	free(fresh);
	if (rc < 0)
		return rc;
	a->index_len = cached + nfresh;
	if (nfresh > 0)
		index_save(a, cached);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Transactions                                                        */
/* ------------------------------------------------------------------ */

typedef struct {
	char *path;
	git_oid oid;
	int remove;
} state_change;

struct eakte_txn {
	eakte_archive *a;
	uint64_t size;             /* journal size including appended events */
	git_oid head;
	int has_head;
	eakte_hash last_leaf;
	eakte_merkle_range range;
	uint64_t appended;         /* new journal commits */
	uint64_t replayed;         /* events taken from an existing journal (catch-up) */
	state_change *changes;
	size_t nchanges, capchanges;
	eakte_hash *new_leaves;
	git_oid *new_commits;
	size_t capnew;
};

int eakte_txn__begin(eakte_txn **out, eakte_archive *a)
{
	eakte_txn *t;

	*out = NULL;
	if (a->lock_fd < 0 || a->key == NULL || a->txnodb == NULL)
		return eakte_error__set(EAKTE_EINVALID, "the archive is open read-only; open it for writing");
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return eakte_error__oom("starting a transaction");
	t->a = a;
	t->size = a->size;
	t->has_head = a->size > 0;
	git_oid_cpy(&t->head, &a->head);
	memcpy(t->last_leaf, a->last_leaf, EAKTE_HASH_LEN);
	t->range = a->range;
	*out = t;
	return 0;
}

eakte_archive *eakte_txn__archive(const eakte_txn *t)
{
	return t->a;
}

void eakte_txn__free(eakte_txn *t)
{
	size_t i;

	if (t == NULL)
		return;
	if (t->a->txnodb != NULL)
		eakte_txnodb__reset(t->a->txnodb);
	for (i = 0; i < t->nchanges; i++)
		free(t->changes[i].path);
	free(t->changes);
	free(t->new_leaves);
	free(t->new_commits);
	free(t);
}

void eakte_journal__doc_dir(char *out, size_t len, const char *doc)
{
	size_t n = strlen(doc);

	/* Fan out twice on the random tail of the UUIDv7, not its time
	 * prefix: a write rewrites the trees on the path to each document it
	 * touches, and with two levels of 256 those stay small (about 15
	 * entries each at a million documents) instead of growing with the
	 * archive. */
	if (n < 4)
		snprintf(out, len, "docs/%s", doc);
	else
		snprintf(out, len, "docs/%.2s/%.2s/%s", doc + n - 2, doc + n - 4, doc);
}

void eakte_journal__doc_path(char *out, size_t len, const char *doc, int64_t version, const char *suffix)
{
	char dir[128];

	eakte_journal__doc_dir(dir, sizeof(dir), doc);
	snprintf(out, len, "%s/%lld.%s", dir, (long long)version, suffix);
}

int eakte_txn__state_put(eakte_txn *t, const char *path, const uint8_t oid[EAKTE_OID_LEN])
{
	state_change *c;

	if (t->nchanges == t->capchanges) {
		size_t cap = t->capchanges ? t->capchanges * 2 : 64;
		state_change *p = realloc(t->changes, cap * sizeof(*p));
		if (p == NULL)
			return eakte_error__oom("recording a state change");
		t->changes = p;
		t->capchanges = cap;
	}
	c = &t->changes[t->nchanges];
	memset(c, 0, sizeof(*c));
	c->path = strdup(path);
	if (c->path == NULL)
		return eakte_error__oom("recording a state change");
	if (oid != NULL)
		git_oid_fromraw(&c->oid, oid);
	else
		c->remove = 1;
	t->nchanges++;
	return 0;
}

int eakte_journal__akte_path(char *out, size_t len, const char *az, const char *name)
{
	eakte_hash h;
	char hex[EAKTE_HASH_HEX_LEN + 1];
	int rc;

	/* An Aktenzeichen contains '/', so it cannot name a tree entry. */
	if ((rc = eakte_sha256__buf(h, az, strlen(az))) < 0)
		return rc;
	eakte_hex__encode(hex, h, EAKTE_HASH_LEN);
	snprintf(out, len, "akten/%.2s/%.2s/%s/%s", hex, hex + 2, hex, name);
	return 0;
}

/* The metadata objects of records events (metadata changes, Akten and
 * Vorgänge) are kept alive by the state tree, where disposal can drop them. */
static int record_state_changes(eakte_txn *t, const eakte_ev *ev, const char *json, size_t len)
{
	const json_t *ref = json_object_get(ev->root, "meta");
	const char *oid_hex = json_string_value(json_object_get(ref, "oid"));
	uint8_t oid[EAKTE_OID_LEN];
	git_oid blob;
	char path[256], name[64];
	int rc;

	if (oid_hex == NULL || eakte_hex__decode(oid, EAKTE_OID_LEN, oid_hex, strlen(oid_hex)) < 0)
		return eakte_error__set(EAKTE_ECORRUPT, "journal event %" PRIu64 " has a malformed \"meta\" reference", ev->seq);
	if (strcmp(ev->action, "meta") == 0) {
		const char *doc = json_string_value(json_object_get(ev->root, "doc"));
		char dir[128];
		if (doc == NULL || !eakte_event__valid_doc_id(doc))
			return eakte_error__set(EAKTE_ECORRUPT, "journal event %" PRIu64 " has a malformed doc", ev->seq);
		eakte_journal__doc_dir(dir, sizeof(dir), doc);
		snprintf(path, sizeof(path), "%s/m%" PRIu64 ".meta", dir, ev->seq);
		if ((rc = eakte_txn__state_put(t, path, oid)) < 0)
			return rc;
		if (git_odb_hash(&blob, json, len, GIT_OBJECT_BLOB) < 0)
			return eakte_archive__git_error(EAKTE_EIO, "hashing an event");
		snprintf(path, sizeof(path), "%s/m%" PRIu64 ".event", dir, ev->seq);
		return eakte_txn__state_put(t, path, blob.id);
	}
	{
		const char *az = json_string_value(json_object_get(ev->root, "akte"));
		if (az == NULL)
			return eakte_error__set(EAKTE_ECORRUPT, "journal event %" PRIu64 " names no Akte", ev->seq);
		if (strcmp(ev->action, "akte-create") == 0)
			snprintf(name, sizeof(name), "akte.meta");
		else
			snprintf(name, sizeof(name), "vorgang-%" PRId64 ".meta",
				(int64_t)json_integer_value(json_object_get(ev->root, "vorgang")));
		if ((rc = eakte_journal__akte_path(path, sizeof(path), az, name)) < 0)
			return rc;
		return eakte_txn__state_put(t, path, oid);
	}
}

/* State changes implied by an event; the same for new events and for
 * catch-up, so the state is a function of the journal. */
static int state_changes(eakte_txn *t, const char *json, size_t len)
{
	eakte_ev ev;
	eakte_ev_file f;
	git_oid blob;
	char path[256];
	int rc;

	if ((rc = eakte_event__parse(&ev, json, len)) < 0)
		return eakte_error__wrap(rc, "journal event %" PRIu64, t->size);
	if (ev.seq != t->size) {
		eakte_event__free(&ev);
		return eakte_error__set(EAKTE_ECORRUPT, "journal event %" PRIu64 " has seq %" PRIu64,
			t->size, ev.seq);
	}
	if (strcmp(ev.action, "meta") == 0 || strcmp(ev.action, "akte-create") == 0 ||
	    strcmp(ev.action, "vorgang-create") == 0) {
		rc = record_state_changes(t, &ev, json, len);
		eakte_event__free(&ev);
		return rc;
	}
	if (strcmp(ev.action, "dispose") == 0) {
		rc = eakte_dispose__state_changes(t, &ev);
		eakte_event__free(&ev);
		return rc;
	}
	if (strcmp(ev.action, "file") != 0) {
		eakte_event__free(&ev);
		return 0;
	}
	if ((rc = eakte_event__file_refs(&f, &ev)) < 0)
		goto out;
	eakte_journal__doc_path(path, sizeof(path), f.doc, f.version, "content");
	if ((rc = eakte_txn__state_put(t, path, f.content_oid)) < 0)
		goto out;
	eakte_journal__doc_path(path, sizeof(path), f.doc, f.version, "meta");
	if ((rc = eakte_txn__state_put(t, path, f.meta_oid)) < 0)
		goto out;
	/* The event blob is the journal commit's event.json: no new object. */
	if (git_odb_hash(&blob, json, len, GIT_OBJECT_BLOB) < 0) {
		rc = eakte_archive__git_error(EAKTE_EIO, "hashing an event");
		goto out;
	}
	eakte_journal__doc_path(path, sizeof(path), f.doc, f.version, "event");
	rc = eakte_txn__state_put(t, path, blob.id);
out:
	eakte_event__free(&ev);
	return rc;
}

static int remember_leaf(eakte_txn *t, const eakte_hash leaf, const git_oid *commit)
{
	size_t n = (size_t)(t->appended + t->replayed);

	if (n == t->capnew) {
		size_t cap = t->capnew ? t->capnew * 2 : 64;
		eakte_hash *l = realloc(t->new_leaves, cap * sizeof(*l));
		git_oid *c;
		if (l == NULL)
			return eakte_error__oom("recording leaves");
		t->new_leaves = l;
		c = realloc(t->new_commits, cap * sizeof(*c));
		if (c == NULL)
			return eakte_error__oom("recording leaves");
		t->new_commits = c;
		t->capnew = cap;
	}
	memcpy(t->new_leaves[n], leaf, EAKTE_HASH_LEN);
	git_oid_cpy(&t->new_commits[n], commit);
	return 0;
}

/* A commit with a gpgsig header, formatted as git_commit_create_with_signature()
 * and `git commit -S` do: the header goes after the committer line, its
 * continuation lines indented by one space. */
static int signed_commit_bytes(char **out, size_t *out_len, const char *content, size_t len, const char *sig)
{
	const char *hdr_end = strstr(content, "\n\n");
	size_t head, sig_len = strlen(sig), n = 0, i;
	char *buf;

	*out = NULL;
	if (hdr_end == NULL)
		return eakte_error__set(EAKTE_EIO, "commit buffer has no message separator");
	head = (size_t)(hdr_end - content) + 1;
	buf = malloc(len + 2 * sig_len + 16);
	if (buf == NULL)
		return eakte_error__oom("signing a journal commit");
	memcpy(buf, content, head);
	n = head;
	memcpy(buf + n, "gpgsig ", 7);
	n += 7;
	for (i = 0; i < sig_len; i++) {
		buf[n++] = sig[i];
		if (sig[i] == '\n')
			buf[n++] = ' ';
	}
	buf[n++] = '\n';
	memcpy(buf + n, content + head, len - head);
	n += len - head;
	*out = buf;
	*out_len = n;
	return 0;
}

static int make_commit(git_oid *out, eakte_txn *t, const char *json, size_t len, uint64_t seq,
	const char *action, const char *subject, int64_t epoch)
{
	eakte_archive *a = t->a;
	git_oid blob_oid, tree_oid;
	git_tree *tree = NULL;
	git_commit *parent = NULL;
	git_signature *sig = NULL;
	git_buf buf = GIT_BUF_INIT;
	char message[256], *armored = NULL, *commit = NULL;
	uint8_t tree_raw[sizeof("100644 event.json") + GIT_OID_RAWSZ];
	const git_commit *parents[1];
	size_t commit_len = 0;
	int rc = 0;

	/* Event blob and its one-entry tree go straight into the transaction. */
	if ((rc = eakte_txnodb__put(a->txnodb, &blob_oid, json, len, GIT_OBJECT_BLOB)) < 0)
		return rc;
	memcpy(tree_raw, "100644 event.json", sizeof("100644 event.json"));
	memcpy(tree_raw + sizeof("100644 event.json"), blob_oid.id, GIT_OID_RAWSZ);
	if ((rc = eakte_txnodb__put(a->txnodb, &tree_oid, tree_raw, sizeof(tree_raw), GIT_OBJECT_TREE)) < 0)
		return rc;
	if (git_tree_lookup(&tree, a->repo, &tree_oid) < 0) {
		rc = eakte_archive__git_error(EAKTE_EIO, "reading the event tree");
		goto out;
	}
	if (t->has_head && git_commit_lookup(&parent, a->repo, &t->head) < 0) {
		rc = eakte_archive__git_error(EAKTE_EIO, "reading the journal head");
		goto out;
	}
	if (git_signature_new(&sig, "eakte", a->origin, epoch, 0) < 0) {
		rc = eakte_archive__git_error(EAKTE_EIO, "creating the commit signature line");
		goto out;
	}
	snprintf(message, sizeof(message), "%s %" PRIu64 "%s%s\n", action, seq, subject[0] ? " " : "", subject);
	parents[0] = parent;
	if (git_commit_create_buffer(&buf, a->repo, sig, sig, NULL, message, tree, parent ? 1 : 0, parents) < 0) {
		rc = eakte_archive__git_error(EAKTE_EIO, "building the journal commit");
		goto out;
	}
	if ((rc = eakte_sshsig__sign(&armored, a->key, EAKTE_SIG_NAMESPACE, (const uint8_t *)buf.ptr, buf.size)) < 0 ||
	    (rc = signed_commit_bytes(&commit, &commit_len, buf.ptr, buf.size, armored)) < 0 ||
	    (rc = eakte_txnodb__put(a->txnodb, out, commit, commit_len, GIT_OBJECT_COMMIT)) < 0)
		goto out;
out:
	free(commit);
	free(armored);
	git_buf_dispose(&buf);
	git_signature_free(sig);
	git_commit_free(parent);
	git_tree_free(tree);
	return rc;
}

static int parse_time(int64_t *epoch, const char *s)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return eakte_error__set(EAKTE_EINVALID, "event time \"%s\" is not YYYY-MM-DDTHH:MM:SSZ", s);
	*epoch = (int64_t)timegm(&tm);
	return 0;
}

int eakte_txn__append(eakte_txn *t, json_t *event, uint64_t *seq_out)
{
	char prev[EAKTE_HASH_HEX_LEN + 1], now[32], *json = NULL;
	const char *action = "", *subject = "", *time_s;
	eakte_hash leaf;
	git_oid commit;
	int64_t epoch;
	size_t len;
	int rc;

	if (json_is_string(json_object_get(event, "action")))
		action = json_string_value(json_object_get(event, "action"));
	if (json_is_string(json_object_get(event, "doc")))
		subject = json_string_value(json_object_get(event, "doc"));
	else if (json_is_string(json_object_get(event, "akte")))
		subject = json_string_value(json_object_get(event, "akte"));
	if (t->size == 0)
		strcpy(prev, zero_hex);
	else
		eakte_hex__encode(prev, t->last_leaf, EAKTE_HASH_LEN);
	eakte_archive__now(now, &epoch);
	if (json_object_set_new(event, "v", json_integer(EAKTE_EVENT_VERSION)) < 0 ||
	    json_object_set_new(event, "seq", json_integer((json_int_t)t->size)) < 0 ||
	    json_object_set_new(event, "prev", json_string(prev)) < 0 ||
	    (json_object_get(event, "time") == NULL && json_object_set_new(event, "time", json_string(now)) < 0) ||
	    (json_object_get(event, "actor") == NULL && json_object_set_new(event, "actor", json_string(t->a->actor)) < 0))
		return eakte_error__oom("building an event");
	time_s = json_string_value(json_object_get(event, "time"));
	if (time_s == NULL || (rc = parse_time(&epoch, time_s)) < 0)
		return eakte_error__set(EAKTE_EINVALID, "event time is missing or malformed");
	if ((rc = eakte_cjson__dump(&json, &len, event)) < 0)
		return rc;
	if (len > EAKTE_EVENT_MAX) {
		free(json);
		return eakte_error__set(EAKTE_EINVALID, "event of %zu bytes exceeds the 1 MiB limit", len);
	}
	rc = make_commit(&commit, t, json, len, t->size, action, subject, epoch);
	if (rc == 0)
		rc = state_changes(t, json, len);
	eakte_merkle__leaf_hash(leaf, json, len);
	free(json);
	if (rc < 0)
		return rc;
	if ((rc = remember_leaf(t, leaf, &commit)) < 0)
		return rc;
	if (seq_out != NULL)
		*seq_out = t->size;
	eakte_merkle__range_append(&t->range, leaf);
	memcpy(t->last_leaf, leaf, EAKTE_HASH_LEN);
	git_oid_cpy(&t->head, &commit);
	t->has_head = 1;
	t->size++;
	t->appended++;
	return 0;
}

/* Take an event that is already in the journal (crash catch-up). */
static int txn_replay(eakte_txn *t, const git_oid *commit, const char *json, size_t len)
{
	eakte_hash leaf;
	int rc;

	if ((rc = state_changes(t, json, len)) < 0)
		return rc;
	eakte_merkle__leaf_hash(leaf, json, len);
	if ((rc = remember_leaf(t, leaf, commit)) < 0)
		return rc;
	eakte_merkle__range_append(&t->range, leaf);
	memcpy(t->last_leaf, leaf, EAKTE_HASH_LEN);
	git_oid_cpy(&t->head, commit);
	t->has_head = 1;
	t->size++;
	t->replayed++;
	return 0;
}

static int write_state(git_oid *state_commit, eakte_txn *t)
{
	eakte_archive *a = t->a;
	eakte_checkpoint cp;
	char *body = NULL, *note = NULL, *head_json = NULL;
	size_t head_len;
	git_oid cp_oid, head_oid, tree_oid, base_oid;
	git_tree *base = NULL;
	git_tree_update *updates = NULL;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	size_t i, n;
	int rc;

	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", a->origin);
	cp.size = t->size;
	eakte_merkle__range_root(&t->range, cp.root);
	if ((rc = eakte_checkpoint__format(&body, &cp)) < 0 ||
	    (rc = eakte_note__sign(&note, body, strlen(body), a->origin, a->key)) < 0)
		goto out;
	if ((rc = eakte_state__head_json(&head_json, &head_len, a->origin, a->pub, t->size, &t->head,
		     t->last_leaf, &t->range)) < 0)
		goto out;
	if (git_blob_create_from_buffer(&cp_oid, a->repo, note, strlen(note)) < 0 ||
	    git_blob_create_from_buffer(&head_oid, a->repo, head_json, head_len) < 0) {
		rc = eakte_archive__git_error(EAKTE_EIO, "writing the state blobs");
		goto out;
	}
	if (a->has_state) {
		git_commit *sc;
		if (git_commit_lookup(&sc, a->repo, &a->state_commit) < 0 || git_commit_tree(&base, sc) < 0) {
			git_commit_free(sc);
			rc = eakte_archive__git_error(EAKTE_ECORRUPT, "reading the state tree");
			goto out;
		}
		git_commit_free(sc);
	} else {
		git_treebuilder *tb;
		if (git_treebuilder_new(&tb, a->repo, NULL) < 0 || git_treebuilder_write(&base_oid, tb) < 0 ||
		    git_tree_lookup(&base, a->repo, &base_oid) < 0) {
			git_treebuilder_free(tb);
			rc = eakte_archive__git_error(EAKTE_EIO, "creating an empty state tree");
			goto out;
		}
		git_treebuilder_free(tb);
	}
	n = t->nchanges + 2;
	updates = calloc(n, sizeof(*updates));
	if (updates == NULL) {
		rc = eakte_error__oom("building the state tree");
		goto out;
	}
	for (i = 0; i < t->nchanges; i++) {
		updates[i].action = t->changes[i].remove ? GIT_TREE_UPDATE_REMOVE : GIT_TREE_UPDATE_UPSERT;
		git_oid_cpy(&updates[i].id, &t->changes[i].oid);
		updates[i].filemode = GIT_FILEMODE_BLOB;
		updates[i].path = t->changes[i].path;
	}
	updates[i].action = GIT_TREE_UPDATE_UPSERT;
	git_oid_cpy(&updates[i].id, &cp_oid);
	updates[i].filemode = GIT_FILEMODE_BLOB;
	updates[i].path = "checkpoint";
	i++;
	updates[i].action = GIT_TREE_UPDATE_UPSERT;
	git_oid_cpy(&updates[i].id, &head_oid);
	updates[i].filemode = GIT_FILEMODE_BLOB;
	updates[i].path = "head.json";
	if (git_tree_create_updated(&tree_oid, a->repo, base, n, updates) < 0 ||
	    git_tree_lookup(&tree, a->repo, &tree_oid) < 0) {
		rc = eakte_archive__git_error(EAKTE_EIO, "writing the state tree");
		goto out;
	}
	if (git_signature_new(&sig, "eakte", a->origin, 0, 0) < 0 ||
	    git_commit_create(state_commit, a->repo, NULL, sig, sig, NULL, "eakte state\n", tree, 0, NULL) < 0) {
		rc = eakte_archive__git_error(EAKTE_EIO, "writing the state commit");
		goto out;
	}
out:
	git_signature_free(sig);
	git_tree_free(tree);
	git_tree_free(base);
	free(updates);
	free(head_json);
	free(body);
	free(note);
	return rc;
}

/*
 * Moving a reference in two steps, so that one flush serves both
 * references and the pack (docs/format.md, "Write order").
 *
 * ref_stage() writes the new value into "<ref>.lock", created exclusively
 * as git's own lock protocol does (no git tool moves the reference while
 * it exists), and does not flush it: the pack's syncfs() that follows
 * makes it durable.  ref_publish() then checks that the reference still
 * has the value this handle knows (compare-and-swap; one writer holds the
 * archive lock, so a mismatch means a foreign tool moved it) and renames
 * the lock into place.  Only a durable rename needs a flush, of the
 * reference's directory: the file itself is on disk already.
 */
static void ref_lock_path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "store.git/%s.lock", name);
}

/* The directory holding a reference, relative to the archive. */
static void ref_dir(char *out, size_t len, const char *name)
{
	snprintf(out, len, "store.git/%.*s", (int)(strrchr(name, '/') - name), name);
}

static void ref_unstage(eakte_archive *a, const char *name)
{
	char lock[256];

	ref_lock_path(lock, sizeof(lock), name);
	(void)unlinkat(a->dirfd, lock, 0);
}

static int ref_stage(eakte_archive *a, const char *name, const git_oid *to)
{
	char lock[256], dir[256], line[GIT_OID_HEXSZ + 2];
	int fd, rc;

	ref_lock_path(lock, sizeof(lock), name);
	ref_dir(dir, sizeof(dir), name);
	fd = openat(a->dirfd, lock, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0 && errno == ENOENT) {
		/* `git pack-refs` removes emptied reference directories. */
		if (mkdirat(a->dirfd, dir, 0777) != 0 && errno != EEXIST)
			return eakte_error__set_errno(EAKTE_EIO, errno, "cannot create %s", dir);
		fd = openat(a->dirfd, lock, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
	}
	if (fd < 0 && errno == EEXIST)
		return eakte_error__set(EAKTE_ELOCKED, "%s is locked by another program (%s exists); "
			"nothing was filed, try again", name, lock);
	if (fd < 0)
		return eakte_error__set_errno(eakte_error__from_errno(errno), errno, "cannot create %s", lock);
	git_oid_fmt(line, to);
	line[GIT_OID_HEXSZ] = '\n';
	line[GIT_OID_HEXSZ + 1] = '\0';
	rc = eakte_fs__write_all(fd, line, GIT_OID_HEXSZ + 1, lock);
	if (close(fd) != 0 && rc == 0)
		rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot write %s", lock);
	if (rc < 0)
		ref_unstage(a, name);
	return rc;
}

/*
 * Rename the staged value into place; with `durable`, flush the directory.
 * On failure the lock is gone and a->ref_moved says whether the reference
 * moved (1: it did, only its durability is in doubt) or not (0).
 * `after_commit`: the journal has moved already, so no message may say
 * that nothing was filed.
 */
static int ref_publish(eakte_archive *a, const char *name, const git_oid *from, int exists, int durable,
	int after_commit)
{
	char lock[256], final[256], dir[256];
	git_oid cur;
	int grc;

	a->ref_moved = 0;
	ref_lock_path(lock, sizeof(lock), name);
	snprintf(final, sizeof(final), "store.git/%s", name);
	ref_dir(dir, sizeof(dir), name);
	grc = git_reference_name_to_id(&cur, a->repo, name);
	if (exists ? grc < 0 || !git_oid_equal(&cur, from) : grc != GIT_ENOTFOUND) {
		ref_unstage(a, name);
		if (grc < 0 && grc != GIT_ENOTFOUND)
			return eakte_archive__git_error(EAKTE_EIO, "reading the reference before moving it");
		if (after_commit)
			return eakte_error__set(EAKTE_EIO, "%s was moved by another program", name);
		return eakte_error__set(EAKTE_ELOCKED, "%s was moved by someone else during the write; "
			"nothing was filed, try again", name);
	}
	if (renameat(a->dirfd, lock, a->dirfd, final) != 0) {
		int e = errno;
		ref_unstage(a, name);
		return eakte_error__set_errno(EAKTE_EIO, e, "cannot move %s (renaming %s)", name, lock);
	}
	if (durable && eakte_fs__fsync_dir_at(a->dirfd, dir) < 0) {
		a->ref_moved = 1;
		return eakte_error__wrap(EAKTE_EIO, "%s moved, but could not be made durable", name);
	}
	return 0;
}

int eakte_txn__commit(eakte_txn *t)
{
	eakte_archive *a = t->a;
	git_oid state_commit;
	uint64_t i, added = t->appended + t->replayed;
	int rc, journal_moves = t->appended > 0;

	char not_durable[512] = "";

	a->filed_state_lags = 0;
	if (added == 0)
		return 0;
	if ((rc = write_state(&state_commit, t)) < 0)
		return rc;
	/* The references' new values first, so that the pack's one flush
	 * makes them durable too. */
	if (journal_moves && (rc = ref_stage(a, EAKTE_JOURNAL_REF, &t->head)) < 0)
		return rc;
	if ((rc = ref_stage(a, EAKTE_STATE_REF, &state_commit)) < 0) {
		if (journal_moves)
			ref_unstage(a, EAKTE_JOURNAL_REF);
		return rc;
	}
	if ((rc = eakte_txnodb__write_pack(a->txnodb, a->repo)) < 0 ||
	    (rc = eakte_packs__rescan(a->packs)) < 0) {
		if (journal_moves)
			ref_unstage(a, EAKTE_JOURNAL_REF);
		ref_unstage(a, EAKTE_STATE_REF);
		return rc;
	}
	/* That syncfs also made an earlier commit's state rename durable. */
	a->state_flush_pending = 0;
	/* The commit point: after this the events are in the archive. */
	if (journal_moves &&
	    (rc = ref_publish(a, EAKTE_JOURNAL_REF, &a->head, a->size > 0 || t->replayed > 0, 1, 0)) < 0) {
		if (a->ref_moved != 1) {
			ref_unstage(a, EAKTE_STATE_REF);
			return rc;
		}
		/* In the journal but perhaps not durable: carry on, so that this
		 * handle matches the disk, and report it (never "nothing filed"). */
		snprintf(not_durable, sizeof(not_durable), "%s", eakte_error_last());
	}
	/* The state is derived from the journal: readers see it at once, and
	 * its rename needs no flush of its own before the answer.  Lost in a
	 * power failure, the old state comes back, and the next writer replays
	 * the events since (catch-up); the end of this commit, or for
	 * EAKTE_OPEN_DEFER_TIDY eakte_archive_tidy(), makes it durable soon
	 * after (eakte_journal__flush_state()). */
	if ((rc = ref_publish(a, EAKTE_STATE_REF, &a->state_commit, a->has_state, 0, journal_moves)) < 0) {
		a->filed_state_lags = journal_moves;
		if (!journal_moves)
			return rc;
		return eakte_error__wrap(EAKTE_EIO, "the events are filed, but the state was not updated "
			"(the next write repairs it)");
	}
	a->state_flush_pending = 1;
	if (a->index_len == a->size && index_grow(a, a->size + added) == 0) {
		for (i = 0; i < added; i++) {
			memcpy(a->leaves[a->size + i], t->new_leaves[i], EAKTE_HASH_LEN);
			git_oid_cpy(&a->commits[a->size + i], &t->new_commits[i]);
		}
		a->index_len = a->size + added;
		index_save(a, a->size);
	}
	a->size = t->size;
	git_oid_cpy(&a->head, &t->head);
	memcpy(a->last_leaf, t->last_leaf, EAKTE_HASH_LEN);
	a->range = t->range;
	git_oid_cpy(&a->state_commit, &state_commit);
	a->has_state = 1;
	a->state_size = t->size;
	eakte_txnodb__reset(a->txnodb);
	if (!(a->flags & EAKTE_OPEN_DEFER_TIDY) && eakte_journal__flush_state(a) < 0)
		snprintf(a->warning, sizeof(a->warning), "%s", eakte_error_last());
	/* The events are durable whatever happens now: a failed merge of
	 * packs leaves them all in place and is only worth a warning. */
	if (a->flags & EAKTE_OPEN_DEFER_TIDY)
		a->tidy_pending = 1;
	else if ((rc = eakte_archive__consolidate_packs(a)) < 0)
		snprintf(a->warning, sizeof(a->warning), "small packs in store.git were not merged "
			"(filing is unaffected; the next write tries again): %s", eakte_error_last());
	if (not_durable[0]) {
		a->filed_state_lags = 1;
		return eakte_error__set(EAKTE_EIO, "the events are in the journal, but may not survive a power failure: "
			"%s; check the disk, then run `eakte verify`", not_durable);
	}
	return 0;
}

int eakte_journal__flush_state(eakte_archive *a)
{
	char dir[256];

	if (!a->state_flush_pending)
		return 0;
	ref_dir(dir, sizeof(dir), EAKTE_STATE_REF);
	if (eakte_fs__fsync_dir_at(a->dirfd, dir) < 0)
		return eakte_error__wrap(EAKTE_EIO, "the archive state may not survive a power failure "
			"(the next write repairs it from the journal); check the disk");
	a->state_flush_pending = 0;
	return 0;
}

int eakte_journal__sync_refs(eakte_archive *a)
{
	char dir[256];
	int rc;

	ref_dir(dir, sizeof(dir), EAKTE_JOURNAL_REF);
	if ((rc = eakte_fs__fsync_dir_at(a->dirfd, dir)) < 0)
		return rc;
	/* Whatever this or an earlier handle left pending (see above). */
	ref_dir(dir, sizeof(dir), EAKTE_STATE_REF);
	if ((rc = eakte_fs__fsync_dir_at(a->dirfd, dir)) < 0)
		return rc;
	a->state_flush_pending = 0;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Catch-up after a crash                                              */
/* ------------------------------------------------------------------ */

static int catch_up(eakte_archive *a, int write)
{
	git_oid head, *list = NULL;
	uint64_t n = 0, i;
	eakte_txn *t = NULL;
	int rc;

	if ((rc = eakte_journal__head(&head, a)) < 0)
		return rc;
	if (a->size > 0 && git_oid_equal(&head, &a->head))
		return 0;
	if ((rc = eakte_journal__list(&list, &n, a, &head, a->size > 0 ? &a->head : NULL)) < 0)
		return rc;
	if (write) {
		if ((rc = eakte_txn__begin(&t, a)) < 0)
			goto out;
	} else {
		t = calloc(1, sizeof(*t));
		if (t == NULL) {
			rc = eakte_error__oom("catching up with the journal");
			goto out;
		}
		t->a = a;
		t->size = a->size;
		git_oid_cpy(&t->head, &a->head);
		memcpy(t->last_leaf, a->last_leaf, EAKTE_HASH_LEN);
		t->range = a->range;
	}
	for (i = 0; i < n; i++) {
		eakte_jcommit c;
		if ((rc = eakte_journal__read_commit(&c, a, &list[i])) < 0)
			goto out;
		if (c.json == NULL) {
			rc = eakte_error__set(EAKTE_ECORRUPT, "journal event %" PRIu64 ": %s", t->size, c.problem);
			eakte_journal__jcommit_free(&c);
			goto out;
		}
		rc = txn_replay(t, &list[i], c.json, c.len);
		eakte_journal__jcommit_free(&c);
		if (rc < 0)
			goto out;
	}
	if (write) {
		rc = eakte_txn__commit(t);
	} else {
		a->size = t->size;
		git_oid_cpy(&a->head, &t->head);
		memcpy(a->last_leaf, t->last_leaf, EAKTE_HASH_LEN);
		a->range = t->range;
	}
out:
	if (write)
		eakte_txn__free(t);
	else if (t != NULL) {
		for (i = 0; i < t->nchanges; i++)
			free(t->changes[i].path);
		free(t->changes);
		free(t->new_leaves);
		free(t->new_commits);
		free(t);
	}
	free(list);
	return rc;
}

int eakte_journal__catch_up(eakte_archive *a)
{
	return catch_up(a, 1);
}

int eakte_journal__catch_up_in_memory(eakte_archive *a)
{
	return catch_up(a, 0);
}
