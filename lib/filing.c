/*
 * filing.c - filing documents as one group commit.
 *
 * eakte_batch_add_*() checks the request, builds the metadata object and
 * opens the file at once (so that errors name the file), then hands it to
 * a small pool of worker threads that stream it into a content object
 * (hashing, compressing, writing) while the caller adds more.  Metadata
 * objects are small and go into the batch's pack with the journal objects.  At most
 * MAX_IN_FLIGHT files are open at a time.  eakte_batch_commit() waits for
 * the workers, makes all objects durable with one syncfs, and appends one event
 * per document in one journal transaction.  If anything failed, nothing
 * is journaled: objects already written are unreferenced and harmless.
 */
#include "archive.h"
#include "cjson.h"
#include "encode.h"
#include "event.h"
#include "journal.h"
#include "mime.h"
#include "objstore.h"

#include <errno.h>
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
#define MAX_AKTE 256

typedef struct {
	char id[EAKTE_ID_LEN + 1];
	int fd;
	char *what;
	char *akte;
	char *actor;
	char *meta_json;
	size_t meta_len;
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
	pthread_mutex_t mu;
	pthread_cond_t work;  /* workers wait for items */
	pthread_cond_t done;  /* adders and commit wait for results */
	pthread_t threads[MAX_WORKERS];
	int nthreads;
	eakte_obj_dirty dirty;
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
	for (size_t i = 0; i < 256; i++)
		b->dirty.fanout[i] |= dirty.fanout[i];
	b->dirty.objects |= dirty.objects;
	pthread_mutex_unlock(&b->mu);
	eakte_mime__free(mime);
	return NULL;
}

int eakte_batch_new(eakte_batch **out, eakte_archive *archive)
{
	eakte_batch *b;

	*out = NULL;
	if (archive == NULL || archive->lock_fd < 0)
		return eakte_error__set(EAKTE_EINVALID, "filing needs the archive opened for writing");
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
	free(it->meta_json);
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

/* Checks a UTF-8 text field: valid UTF-8 (jansson decides), no control
 * characters except tab/newline when multiline, within the limit. */
static int check_text(const char *what, const char *s, size_t max, int multiline)
{
	size_t i, n = strlen(s);
	json_t *probe;

	if (n > max)
		return eakte_error__set(EAKTE_EINVALID, "%s is %zu bytes long, the limit is %zu", what, n, max);
	probe = json_stringn(s, n);
	if (probe == NULL)
		return eakte_error__set(EAKTE_EINVALID, "%s is not valid UTF-8", what);
	json_decref(probe);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && !(multiline && (c == '\n' || c == '\t'))) || c == 0x7f)
			return eakte_error__set(EAKTE_EINVALID, "%s contains a control character (byte %zu)", what, i);
	}
	return 0;
}

static int valid_key(const char *k, size_t n)
{
	size_t i;

	if (n == 0 || n > EAKTE_MAX_META_KEY)
		return 0;
	for (i = 0; i < n; i++) {
		char c = k[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

static int build_meta(item *it, const eakte_file_options *o, const char *title, const char *filename)
{
	json_t *m = json_object(), *kv = json_object();
	uint8_t salt[16];
	char salt64[32];
	size_t i;
	int rc;

	if (m == NULL || kv == NULL) {
		rc = eakte_error__oom("building metadata");
		goto out;
	}
	if ((rc = check_text("the title", title, EAKTE_MAX_TITLE, 0)) < 0 ||
	    (rc = check_text("the file name", filename, 1024, 0)) < 0)
		goto out;
	if (o->meta_count > EAKTE_MAX_META_COUNT) {
		rc = eakte_error__set(EAKTE_EINVALID, "%zu metadata entries given, the limit is %d",
			o->meta_count, EAKTE_MAX_META_COUNT);
		goto out;
	}
	for (i = 0; i < o->meta_count; i++) {
		const char *s = o->meta[i], *eq = s ? strchr(s, '=') : NULL;
		char key[EAKTE_MAX_META_KEY + 1], what[EAKTE_MAX_META_KEY + 32];

		if (eq == NULL || !valid_key(s, (size_t)(eq - s))) {
			rc = eakte_error__set(EAKTE_EINVALID,
				"metadata \"%.40s\" is not KEY=VALUE with a KEY of 1-128 characters A-Z a-z 0-9 _ - .",
				s ? s : "(null)");
			goto out;
		}
		memcpy(key, s, (size_t)(eq - s));
		key[eq - s] = '\0';
		snprintf(what, sizeof(what), "metadata value of %s", key);
		if ((rc = check_text(what, eq + 1, EAKTE_MAX_META_VALUE, 1)) < 0)
			goto out;
		if (json_object_get(kv, key) != NULL) {
			rc = eakte_error__set(EAKTE_EINVALID, "metadata key %s is given twice", key);
			goto out;
		}
		if (json_object_set_new(kv, key, json_string(eq + 1)) < 0) {
			rc = eakte_error__oom("building metadata");
			goto out;
		}
	}
	/* The salt makes the hash in the journal reveal nothing about the values. */
	if (RAND_bytes(salt, sizeof(salt)) != 1) {
		rc = eakte_error__set(EAKTE_EIO, "cannot get random bytes for the metadata salt");
		goto out;
	}
	eakte_base64__encode_to(salt64, salt, sizeof(salt));
	if (json_object_set_new(m, "v", json_integer(1)) < 0 ||
	    json_object_set_new(m, "doc", json_string(it->id)) < 0 ||
	    json_object_set_new(m, "version", json_integer(1)) < 0 ||
	    json_object_set_new(m, "akte", json_string(it->akte)) < 0 ||
	    json_object_set_new(m, "title", json_string(title)) < 0 ||
	    json_object_set_new(m, "filename", json_string(filename)) < 0 ||
	    json_object_set_new(m, "salt", json_string(salt64)) < 0 ||
	    json_object_set(m, "meta", kv) < 0) {
		rc = eakte_error__oom("building metadata");
		goto out;
	}
	rc = eakte_cjson__dump(&it->meta_json, &it->meta_len, m);
out:
	json_decref(m);
	json_decref(kv);
	return rc;
}

static int add_item(eakte_batch *b, int fd, const char *what, const char *default_name,
	const eakte_file_options *o, char id_out[EAKTE_ID_LEN + 1])
{
	item *it;
	const char *filename, *title;
	int rc;

	if (b->committed)
		return eakte_error__set(EAKTE_EINVALID, "the batch was already committed");
	if (o == NULL || o->version != EAKTE_FILE_OPTIONS_VERSION)
		return eakte_error__set(EAKTE_EVERSION, "eakte_file_options missing or of an unsupported version");
	if (o->akte == NULL || o->akte[0] == '\0')
		return eakte_error__set(EAKTE_EINVALID, "no Akte given: every document is filed into an Akte (--akte AZ)");
	if ((rc = check_text("the Aktenzeichen", o->akte, MAX_AKTE, 0)) < 0)
		return rc;
	it = calloc(1, sizeof(*it));
	if (it == NULL)
		return eakte_error__oom("adding a document");
	it->fd = fd;
	filename = o->filename ? o->filename : default_name;
	title = o->title ? o->title : filename;
	it->what = strdup(what);
	it->akte = strdup(o->akte);
	it->actor = o->actor ? strdup(o->actor) : NULL;
	if (it->what == NULL || it->akte == NULL || (o->actor && it->actor == NULL)) {
		item_free(it);
		return eakte_error__oom("adding a document");
	}
	if (o->actor != NULL && (rc = check_text("the actor", o->actor, 255, 0)) < 0) {
		item_free(it);
		return rc;
	}
	if ((rc = eakte_event__new_doc_id(it->id)) < 0 || (rc = build_meta(it, o, title, filename)) < 0) {
		it->fd = -1; /* the caller still owns fd on failure */
		item_free(it);
		return rc;
	}

	pthread_mutex_lock(&b->mu);
	while (b->count - b->finished >= MAX_IN_FLIGHT)
		pthread_cond_wait(&b->done, &b->mu);
	if (b->count == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		item **p = realloc(b->items, cap * sizeof(*p));
		if (p == NULL) {
			pthread_mutex_unlock(&b->mu);
			it->fd = -1;
			item_free(it);
			return eakte_error__oom("adding a document");
		}
		b->items = p;
		b->cap = cap;
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
	rc = add_item(b, fd, path, base, o, id_out);
	if (rc < 0)
		close(fd);
	return rc;
}

int eakte_batch_add_fd(eakte_batch *b, int fd, const eakte_file_options *o, char id_out[EAKTE_ID_LEN + 1])
{
	char what[32];
	int dfd, rc;

	snprintf(what, sizeof(what), "descriptor %d", fd);
	dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dfd < 0)
		return eakte_error__set_errno(EAKTE_EINVALID, errno, "cannot use %s", what);
	rc = add_item(b, dfd, what, "document", o, id_out);
	if (rc < 0)
		close(dfd);
	return rc;
}

static int append_event(eakte_txn *t, item *it)
{
	char sha[EAKTE_HASH_HEX_LEN + 1], oid[EAKTE_OID_HEX_LEN + 1];
	char msha[EAKTE_HASH_HEX_LEN + 1], moid[EAKTE_OID_HEX_LEN + 1];
	json_t *ev = json_object(), *content = json_object(), *meta = json_object();
	git_oid meta_oid;
	int rc = 0;

	/* The metadata object is small: it goes into the batch's pack with the
	 * journal objects rather than into a file of its own. */
	if ((rc = eakte_txnodb__put(eakte_txn__archive(t)->txnodb, &meta_oid, it->meta_json, it->meta_len, GIT_OBJECT_BLOB)) < 0)
		goto out;
	memcpy(it->meta.oid, meta_oid.id, EAKTE_OID_LEN);
	EVP_Digest(it->meta_json, it->meta_len, it->meta.sha256, NULL, EVP_sha256(), NULL);
	eakte_hex__encode(sha, it->content.sha256, EAKTE_HASH_LEN);
	eakte_hex__encode(oid, it->content.oid, EAKTE_OID_LEN);
	eakte_hex__encode(msha, it->meta.sha256, EAKTE_HASH_LEN);
	eakte_hex__encode(moid, it->meta.oid, EAKTE_OID_LEN);
	if (ev == NULL || content == NULL || meta == NULL ||
	    json_object_set_new(content, "sha256", json_string(sha)) < 0 ||
	    json_object_set_new(content, "oid", json_string(oid)) < 0 ||
	    json_object_set_new(content, "size", json_integer((json_int_t)it->content.size)) < 0 ||
	    json_object_set_new(content, "mime", json_string(it->content.mime)) < 0 ||
	    json_object_set_new(meta, "sha256", json_string(msha)) < 0 ||
	    json_object_set_new(meta, "oid", json_string(moid)) < 0 ||
	    json_object_set_new(ev, "action", json_string("file")) < 0 ||
	    json_object_set_new(ev, "doc", json_string(it->id)) < 0 ||
	    json_object_set_new(ev, "version", json_integer(1)) < 0 ||
	    json_object_set_new(ev, "akte", json_string(it->akte)) < 0 ||
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
	if ((rc = eakte_obj__sync(b->a->objects_fd, &b->dirty)) < 0)
		return rc;
	if ((rc = eakte_txn__begin(&t, b->a)) < 0)
		return rc;
	for (i = 0; i < b->count && rc == 0; i++)
		rc = append_event(t, b->items[i]);
	if (rc == 0)
		rc = eakte_txn__commit(t);
	eakte_txn__free(t);
	if (rc == 0)
		b->committed = 1;
	return rc;
}
