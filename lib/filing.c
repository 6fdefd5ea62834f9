/*
 * filing.c - filing documents as one group commit.
 *
 * eakte_batch_add_*() checks the request, builds the metadata object and
 * opens the file at once (so that errors name the file), then hands it to
 * a small pool of worker threads that stream it into a content object
 * (hashing, compressing, writing) while the caller adds more.  Metadata
 * objects are small and go into the batch's pack with the journal objects.  At most
 * MAX_IN_FLIGHT files are open at a time.  eakte_batch_commit() waits for
 * the workers and appends one event per document in one journal
 * transaction, whose one syncfs (after its pack) makes the content objects
 * durable too, before the journal reference moves.  If anything failed,
 * nothing is journaled: objects already written are unreferenced and
 * harmless.
 *
 * A server can do the content part earlier, on its own threads:
 * eakte_stage_fd() writes the object, eakte_batch_add_staged() adds it to
 * a batch as one that is already done, so the committing thread does not
 * read, hash or write content at all.
 */
#include "archive.h"
#include "cjson.h"
#include "encode.h"
#include "event.h"
#include "index.h"
#include "journal.h"
#include "mime.h"
#include "objstore.h"
#include "records.h"
#include "life.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#define MAX_WORKERS 4
#define MAX_IN_FLIGHT 64

typedef struct {
	char id[EAKTE_ID_LEN + 1];
	int64_t version;
	int64_t vorgang;
	int fd;
	char *what;
	char *akte;
	char *actor;
	json_t *meta_obj;      /* the metadata object, salted at commit */
	eakte_obj_info content;
	eakte_obj_info meta;
	int rc;
	char *error;
	int done;
} item;

struct eakte_batch {
	eakte_archive *a;
	item **items;
	size_t count, cap;
	size_t next;          /* next item for a worker */
	size_t finished;
	int stop;
	int committed;
	int filed;            /* in the journal, even if the commit then failed */
	pthread_mutex_t mu;
	pthread_cond_t work;  /* workers wait for items */
	pthread_cond_t done;  /* adders and commit wait for results */
	pthread_t threads[MAX_WORKERS];
	int nthreads;
};

struct eakte_staged {
	eakte_obj_info content;
	int fd;              /* a duplicate, to read again if the object went */
	off_t start;         /* where the content starts in it */
	char *what;
};

static void *worker(void *arg)
{
	eakte_batch *b = arg;
	eakte_mime *mime = NULL;
	eakte_obj_dirty dirty;
	int mime_rc = eakte_mime__new(&mime);

	memset(&dirty, 0, sizeof(dirty));
	pthread_mutex_lock(&b->mu);
	for (;;) {
		item *it;
		int rc;

		while (!b->stop && b->next == b->count)
			pthread_cond_wait(&b->work, &b->mu);
		if (b->next == b->count && b->stop)
			break;
		it = b->items[b->next++];
		if (it->done)
			continue;   /* staged: nothing to write */
		pthread_mutex_unlock(&b->mu);

		rc = mime_rc;
		if (rc == 0)
			rc = eakte_obj__write_fd(&it->content, b->a->objects_fd, it->fd, mime, &dirty, it->what);
		if (rc < 0)
			it->error = strdup(eakte_error_last());
		close(it->fd);
		it->fd = -1;

		pthread_mutex_lock(&b->mu);
		it->rc = rc;
		it->done = 1;
		b->finished++;
		pthread_cond_broadcast(&b->done);
	}
	pthread_mutex_unlock(&b->mu);
	eakte_mime__free(mime);
	return NULL;
}

int eakte_batch_new(eakte_batch **out, eakte_archive *archive)
{
	eakte_batch *b;

	*out = NULL;
	eakte_index *ix;
	int rc;

	if (archive == NULL || archive->lock_fd < 0)
		return eakte_error__set(EAKTE_EINVALID, "filing needs the archive opened for writing");
	/* Akten, Vorgänge and documents are checked against the index. */
	if ((rc = eakte_index__for_writer(&ix, archive)) < 0)
		return rc;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return eakte_error__oom("starting a batch");
	b->a = archive;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->work, NULL);
	pthread_cond_init(&b->done, NULL);
	*out = b;
	return 0;
}

static void stop_workers(eakte_batch *b)
{
	int i;

	pthread_mutex_lock(&b->mu);
	b->stop = 1;
	pthread_cond_broadcast(&b->work);
	pthread_mutex_unlock(&b->mu);
	for (i = 0; i < b->nthreads; i++)
		pthread_join(b->threads[i], NULL);
	b->nthreads = 0;
}

static void item_free(item *it)
{
	if (it == NULL)
		return;
	if (it->fd >= 0)
		close(it->fd);
	free(it->what);
	free(it->akte);
	free(it->actor);
	json_decref(it->meta_obj);
	free(it->error);
	free(it);
}

void eakte_batch_free(eakte_batch *b)
{
	size_t i;

	if (b == NULL)
		return;
	stop_workers(b);
	for (i = 0; i < b->count; i++)
		item_free(b->items[i]);
	free(b->items);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->work);
	pthread_cond_destroy(&b->done);
	free(b);
}

size_t eakte_batch_count(const eakte_batch *b)
{
	return b->count;
}

int eakte_batch_filed(const eakte_batch *b)
{
	return b != NULL && b->filed;
}

static int build_meta(item *it, const eakte_file_options *o, const char *title, const char *filename,
	const char *base_meta)
{
	json_t *m = json_object(), *kv = NULL;
	int rc;

	if (m == NULL) {
		rc = eakte_error__oom("building metadata");
		goto out;
	}
	if ((rc = eakte_records__check_text("the title", title, EAKTE_MAX_TITLE, 0)) < 0 ||
	    (rc = eakte_records__check_text("the file name", filename, 1024, 0)) < 0)
		goto out;
	/* A new version starts from the document's current metadata. */
	if (base_meta != NULL)
		rc = eakte_cjson__parse(&kv, base_meta, strlen(base_meta), 64u << 20);
	else if ((kv = json_object()) == NULL)
		rc = eakte_error__oom("building metadata");
	/* For a new version, KEY= removes a key as in `eakte meta set`. */
	if (rc < 0 || (rc = eakte_records__check_unique_keys(o->meta, o->meta_count)) < 0 ||
	    (rc = eakte_records__apply_kv(kv, o->meta, o->meta_count, base_meta != NULL)) < 0)
		goto out;
	if (json_object_set_new(m, "v", json_integer(1)) < 0 ||
	    json_object_set_new(m, "doc", json_string(it->id)) < 0 ||
	    json_object_set_new(m, "version", json_integer(it->version)) < 0 ||
	    json_object_set_new(m, "akte", json_string(it->akte)) < 0 ||
	    json_object_set_new(m, "title", json_string(title)) < 0 ||
	    json_object_set_new(m, "filename", json_string(filename)) < 0 ||
	    json_object_set(m, "meta", kv) < 0) {
		rc = eakte_error__oom("building metadata");
		goto out;
	}
	it->meta_obj = m;
	m = NULL;
out:
	json_decref(m);
	json_decref(kv);
	return rc;
}

/* Check where the document goes: the Akte exists and is open, the
 * Vorgang exists, the document of a new version exists. */
static int check_target(eakte_batch *b, item *it, const eakte_file_options *o, eakte_index_doc *prev)
{
	eakte_index_akte akte;
	const char *az = o->akte;
	int rc;

	if (o->new_version_of != NULL) {
		if (!eakte_event__valid_doc_id(o->new_version_of))
			return eakte_error__set(EAKTE_EINVALID, "\"%s\" is not a document id", o->new_version_of);
		if ((rc = eakte_index__doc(prev, b->a->index, o->new_version_of)) < 0 &&
		    (rc = eakte_dispose__doc_missing(b->a, o->new_version_of, rc)) < 0)
			return rc;
		for (size_t i = 0; i < b->count; i++)
			if (strcmp(b->items[i]->id, o->new_version_of) == 0)
				return eakte_error__set(EAKTE_EINVALID,
					"document %s gets a new version twice in one call; file them one after the other",
					o->new_version_of);
		if (az != NULL && strcmp(az, prev->akte) != 0)
			return eakte_error__set(EAKTE_EINVALID, "document %s is in Akte %s, not %s; a new version stays in its Akte",
				o->new_version_of, prev->akte, az);
		az = prev->akte;
		memcpy(it->id, o->new_version_of, EAKTE_ID_LEN + 1);
		it->version = prev->latest + 1;
		it->vorgang = o->vorgang > 0 ? o->vorgang : prev->vorgang;
	} else {
		if (az == NULL || az[0] == '\0')
			return eakte_error__set(EAKTE_EINVALID, "no Akte given: every document is filed into an Akte (--akte AZ)");
		it->version = 1;
		it->vorgang = o->vorgang;
	}
	if ((rc = eakte_records__check_az(az)) < 0 || (rc = eakte_index__akte(&akte, b->a->index, az)) < 0)
		return rc;
	/* A disposed Akte stays closed (disposal needs zdA, reopening it is
	 * refused): only a closed one needs the disposal lookup, and filing
	 * into an open Akte - every document - does without it. */
	if (akte.closed && (rc = eakte_life__refuse_disposed(b->a->index, az, "nothing can be filed into it")) < 0)
		return rc;
	if (akte.closed)
		return eakte_error__set(EAKTE_EPOLICY,
			"Akte %s was closed (zdA) on %s; nothing can be filed into it (reopen it with `eakte akte reopen %s`)",
			az, akte.closed_on, az);
	if (it->vorgang < 0)
		return eakte_error__set(EAKTE_EINVALID, "Vorgang numbers start at 1");
	if (it->vorgang > 0) {
		rc = eakte_index__vorgang_exists(b->a->index, akte.id, it->vorgang);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return eakte_error__set(EAKTE_ENOTFOUND, "Akte %s has no Vorgang %" PRId64
				"; create one with `eakte akte create --vorgang %s`", az, it->vorgang, az);
	}
	it->akte = strdup(az);
	return it->akte ? 0 : eakte_error__oom("adding a document");
}

/* With b->mu held. */
static int grow_items(eakte_batch *b)
{
	size_t cap = b->cap ? b->cap * 2 : 64;
	item **p = realloc(b->items, cap * sizeof(*p));

	if (p == NULL)
		return -1;
	b->items = p;
	b->cap = cap;
	return 0;
}

static int add_item(eakte_batch *b, int fd, const eakte_staged *staged, const char *what,
	const char *default_name, const eakte_file_options *o, char id_out[EAKTE_ID_LEN + 1])
{
	item *it;
	const char *filename, *title;
	int rc;

	eakte_file_options o2 = EAKTE_FILE_OPTIONS_INIT;
	eakte_index_doc prev;

	if (b->committed)
		return eakte_error__set(EAKTE_EINVALID, "the batch was already committed");
	if (o == NULL || o->version < 1 || o->version > EAKTE_FILE_OPTIONS_VERSION)
		return eakte_error__set(EAKTE_EVERSION, "eakte_file_options missing or of an unsupported version");
	/* Older callers know nothing of the later fields. */
	memcpy(&o2, o, o->version == 1 ? offsetof(eakte_file_options, vorgang) :
		o->version == 2 ? offsetof(eakte_file_options, label) : sizeof(o2));
	o2.version = EAKTE_FILE_OPTIONS_VERSION;
	o = &o2;
	memset(&prev, 0, sizeof(prev));
	it = calloc(1, sizeof(*it));
	if (it == NULL)
		return eakte_error__oom("adding a document");
	it->fd = -1;
	if ((rc = check_target(b, it, o, &prev)) < 0)
		goto fail;
	filename = o->filename ? o->filename : default_name;
	title = o->title ? o->title : prev.title ? prev.title : filename;
	it->what = strdup(what);
	it->actor = o->actor ? strdup(o->actor) : NULL;
	if (it->what == NULL || (o->actor && it->actor == NULL)) {
		rc = eakte_error__oom("adding a document");
		goto fail;
	}
	if (o->actor != NULL && (rc = eakte_records__check_text("the actor", o->actor, 255, 0)) < 0)
		goto fail;
	if ((o->new_version_of == NULL && (rc = eakte_event__new_doc_id(it->id)) < 0) ||
	    (rc = build_meta(it, o, title, filename, prev.meta)) < 0)
		goto fail;
	eakte_index__doc_free(&prev);
	if (staged != NULL) {
		/* Written already: no worker.  The commit's flush makes it
		 * durable with the rest (see eakte_batch_commit()). */
		it->content = staged->content;
		it->done = 1;
		pthread_mutex_lock(&b->mu);
		if (b->count == b->cap && grow_items(b) < 0) {
			pthread_mutex_unlock(&b->mu);
			item_free(it);
			return eakte_error__oom("adding a document");
		}
		b->items[b->count++] = it;
		b->finished++;
		pthread_mutex_unlock(&b->mu);
		memcpy(id_out, it->id, EAKTE_ID_LEN + 1);
		return 0;
	}
	it->fd = fd;

	pthread_mutex_lock(&b->mu);
	while (b->count - b->finished >= MAX_IN_FLIGHT)
		pthread_cond_wait(&b->done, &b->mu);
	if (b->count == b->cap && grow_items(b) < 0) {
		pthread_mutex_unlock(&b->mu);
		it->fd = -1;
		item_free(it);
		return eakte_error__oom("adding a document");
	}
	b->items[b->count++] = it;
	if (b->nthreads < MAX_WORKERS && (size_t)b->nthreads < b->count - b->finished) {
		if (pthread_create(&b->threads[b->nthreads], NULL, worker, b) == 0)
			b->nthreads++;
	}
	if (b->nthreads == 0) {
		/* Could not start any worker: leave it unqueued and fail. */
		b->count--;
		pthread_mutex_unlock(&b->mu);
		it->fd = -1;
		item_free(it);
		return eakte_error__set(EAKTE_EIO, "cannot start a worker thread for filing");
	}
	pthread_cond_signal(&b->work);
	pthread_mutex_unlock(&b->mu);
	memcpy(id_out, it->id, EAKTE_ID_LEN + 1);
	return 0;
fail:
	/* The caller still owns fd on failure. */
	eakte_index__doc_free(&prev);
	item_free(it);
	return rc;
}

int eakte_batch_add_path(eakte_batch *b, const char *path, const eakte_file_options *o,
	char id_out[EAKTE_ID_LEN + 1])
{
	struct stat st;
	const char *base;
	int fd, rc;

	if (path == NULL || path[0] == '\0')
		return eakte_error__set(EAKTE_EINVALID, "empty file name");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return eakte_error__set_errno(eakte_error__from_errno(errno) == EAKTE_EPOLICY ? EAKTE_EIO :
			eakte_error__from_errno(errno), errno, "cannot open %s", path);
	if (fstat(fd, &st) != 0) {
		rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot stat %s", path);
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return eakte_error__set(EAKTE_EINVALID, "%s is not a regular file%s", path,
			S_ISDIR(st.st_mode) ? " but a directory" : "");
	}
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	rc = add_item(b, fd, NULL, path, base, o, id_out);
	if (rc < 0)
		close(fd);
	return rc;
}

int eakte_batch_add_fd(eakte_batch *b, int fd, const eakte_file_options *o, char id_out[EAKTE_ID_LEN + 1])
{
	char what[4096];
	int dfd, rc;

	snprintf(what, sizeof(what), "descriptor %d", fd);
	if (o != NULL && o->version >= 3 && o->label != NULL)
		snprintf(what, sizeof(what), "%s", o->label);
	dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dfd < 0)
		return eakte_error__set_errno(EAKTE_EINVALID, errno, "cannot use %s", what);
	rc = add_item(b, dfd, NULL, what, "document", o, id_out);
	if (rc < 0)
		close(dfd);
	return rc;
}

/* One MIME detector per thread that stages: libmagic's database is loaded
 * at most once per thread, and only for a type that the signatures do not
 * tell (see mime.c). */
static pthread_key_t stage_mime_key;
static pthread_once_t stage_mime_once = PTHREAD_ONCE_INIT;
static int stage_mime_key_rc;

static void stage_mime_free(void *m)
{
	eakte_mime__free(m);
}

static void stage_mime_init(void)
{
	stage_mime_key_rc = pthread_key_create(&stage_mime_key, stage_mime_free);
}

static int stage_mime(eakte_mime **out)
{
	eakte_mime *m;
	int rc;

	if (pthread_once(&stage_mime_once, stage_mime_init) != 0 || stage_mime_key_rc != 0)
		return eakte_error__set(EAKTE_EIO, "cannot set up type detection for this thread");
	if ((m = pthread_getspecific(stage_mime_key)) == NULL) {
		if ((rc = eakte_mime__new(&m)) < 0)
			return rc;
		if (pthread_setspecific(stage_mime_key, m) != 0) {
			eakte_mime__free(m);
			return eakte_error__set(EAKTE_EIO, "cannot set up type detection for this thread");
		}
	}
	*out = m;
	return 0;
}

/* Write the content of s->fd (from s->start) into the store. */
static int stage_write(eakte_obj_info *info, eakte_archive *a, const eakte_staged *s)
{
	eakte_obj_dirty dirty;
	eakte_mime *mime = NULL;
	int rc;

	memset(&dirty, 0, sizeof(dirty));
	if ((rc = stage_mime(&mime)) < 0)
		return rc;
	if (lseek(s->fd, s->start, SEEK_SET) < 0)
		return eakte_error__set_errno(EAKTE_EIO, errno, "cannot read %s from its start", s->what);
	return eakte_obj__write_fd(info, a->objects_fd, s->fd, mime, &dirty, s->what);
}

int eakte_stage_fd(eakte_staged **out, eakte_archive *archive, int fd, const char *label)
{
	eakte_staged *s;
	char what[64];
	int rc;

	*out = NULL;
	if (archive == NULL || archive->lock_fd < 0)
		return eakte_error__set(EAKTE_EINVALID, "staging content needs the archive opened for writing");
	snprintf(what, sizeof(what), "descriptor %d", fd);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return eakte_error__oom("staging a document");
	s->what = strdup(label ? label : what);
	s->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (s->what == NULL) {
		rc = eakte_error__oom("staging a document");
		goto fail;
	}
	if (s->fd < 0) {
		rc = eakte_error__set_errno(EAKTE_EINVALID, errno, "cannot use %s", s->what);
		goto fail;
	}
	if ((s->start = lseek(s->fd, 0, SEEK_CUR)) < 0) {
		rc = eakte_error__set_errno(EAKTE_EINVALID, errno, "cannot read %s", s->what);
		goto fail;
	}
	if ((rc = stage_write(&s->content, archive, s)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	eakte_staged_free(s);
	return rc;
}

void eakte_staged_free(eakte_staged *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->what);
	free(s);
}

int eakte_batch_add_staged(eakte_batch *b, const eakte_staged *s, const eakte_file_options *o,
	char id_out[EAKTE_ID_LEN + 1])
{
	int rc;

	if (s == NULL)
		return eakte_error__set(EAKTE_EINVALID, "no staged content given");
	if (b->committed)
		return eakte_error__set(EAKTE_EINVALID, "the batch was already committed");
	if (!eakte_obj__exists(b->a->objects_fd, s->content.oid)) {
		/* Gone since it was staged: a disposal, run by this writer in
		 * between, removed the same bytes of another document.  Write
		 * them again - they must still be the same bytes. */
		eakte_obj_info again;

		if ((rc = stage_write(&again, b->a, s)) < 0)
			return rc;
		if (memcmp(again.sha256, s->content.sha256, EAKTE_HASH_LEN) != 0)
			return eakte_error__set(EAKTE_EINVALID, "%s changed after it was received; send it again", s->what);
	}
	return add_item(b, -1, s, s->what, "document", o, id_out);
}

static int append_event(eakte_txn *t, item *it)
{
	char sha[EAKTE_HASH_HEX_LEN + 1], oid[EAKTE_OID_HEX_LEN + 1];
	json_t *ev = json_object(), *content = json_object(), *meta = NULL;
	int rc = 0;

	/* The metadata object is small: it goes into the batch's pack with the
	 * journal objects rather than into a file of its own. */
	if ((rc = eakte_records__put_meta(&meta, eakte_txn__archive(t), it->meta_obj)) < 0)
		goto out;
	eakte_hex__encode(sha, it->content.sha256, EAKTE_HASH_LEN);
	eakte_hex__encode(oid, it->content.oid, EAKTE_OID_LEN);
	if (ev == NULL || content == NULL ||
	    json_object_set_new(content, "sha256", json_string(sha)) < 0 ||
	    json_object_set_new(content, "oid", json_string(oid)) < 0 ||
	    json_object_set_new(content, "size", json_integer((json_int_t)it->content.size)) < 0 ||
	    json_object_set_new(content, "mime", json_string(it->content.mime)) < 0 ||
	    json_object_set_new(ev, "action", json_string("file")) < 0 ||
	    json_object_set_new(ev, "doc", json_string(it->id)) < 0 ||
	    json_object_set_new(ev, "version", json_integer(it->version)) < 0 ||
	    json_object_set_new(ev, "akte", json_string(it->akte)) < 0 ||
	    (it->vorgang > 0 && json_object_set_new(ev, "vorgang", json_integer(it->vorgang)) < 0) ||
	    json_object_set(ev, "content", content) < 0 ||
	    json_object_set(ev, "meta", meta) < 0 ||
	    (it->actor && json_object_set_new(ev, "actor", json_string(it->actor)) < 0)) {
		rc = eakte_error__oom("building a file event");
		goto out;
	}
	rc = eakte_txn__append(t, ev, NULL);
out:
	json_decref(ev);
	json_decref(content);
	json_decref(meta);
	return rc;
}

int eakte_batch_commit(eakte_batch *b)
{
	eakte_txn *t = NULL;
	size_t i;
	int rc;

	if (b->committed)
		return eakte_error__set(EAKTE_EINVALID, "the batch was already committed");
	stop_workers(b);
	for (i = 0; i < b->count; i++) {
		item *it = b->items[i];
		if (it->rc < 0)
			return eakte_error__set(it->rc, "%s; nothing of this batch was filed",
				it->error ? it->error : "filing failed");
	}
	if (b->count == 0)
		return 0;
	/* The detected type, not the file name, decides. */
	for (i = 0; i < b->count; i++) {
		item *it = b->items[i];
		if (!eakte_conf__format_allowed(&b->a->conf, it->content.mime)) {
			char allowed[1024];
			eakte_conf__formats_text(allowed, sizeof(allowed), &b->a->conf);
			return eakte_error__set(EAKTE_EPOLICY,
				"%s is %s, which the archive's format policy does not allow (allowed: %s; "
				"see [policy] formats in eakte.conf); nothing of this batch was filed",
				it->what, it->content.mime, allowed);
		}
	}
	b->a->filed_state_lags = 0;
	/* No flush of the content objects here: the journal transaction
	 * writes its pack and then flushes the whole file system once
	 * (syncfs), content included, before its reference moves. */
	if ((rc = eakte_txn__begin(&t, b->a)) == 0) {
		for (i = 0; i < b->count && rc == 0; i++)
			rc = append_event(t, b->items[i]);
		if (rc == 0)
			rc = eakte_txn__commit(t);
	}
	eakte_txn__free(t);
	if (rc < 0) {
		/* Say which side of the commit point it failed on: a caller must
		 * never tell a user that nothing was filed when it was. */
		char why[1024];
		if (b->a->filed_state_lags) {
			b->filed = 1;
			return rc;
		}
		snprintf(why, sizeof(why), "%s", eakte_error_last());
		return eakte_error__set(rc, "%s; nothing of this batch was filed", why);
	}
	/* Durable now: the caller may acknowledge.  The index follows in
	 * eakte_extract_pending() (or the next open). */
	b->committed = b->filed = 1;
	return 0;
}
