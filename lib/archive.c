/*
 * archive.c - creating and opening an archive.
 *
 * Open order: directory -> lock (writers) -> store.git -> state -> key
 * -> catch-up of anything a crash left unfinished (writers).
 */
#include "archive.h"
#include "cjson.h"
#include "encode.h"
#include "fsutil.h"
#include "index.h"
#include "journal.h"
#include "note.h"
#include "sshsig.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include <openssl/rand.h>

#ifndef EAKTE_VERSION
#define EAKTE_VERSION "0.0.0"
#endif

static pthread_once_t git_once = PTHREAD_ONCE_INIT;
static int git_init_rc;

const char *eakte_version(void)
{
	return EAKTE_VERSION;
}

void eakte_free(void *ptr)
{
	free(ptr);
}

static void git_init_once(void)
{
	if (git_libgit2_init() < 0 ||
	    git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1) < 0 ||
	    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1) < 0 ||
	    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 1) < 0 ||
	    /* Bound the pack files libgit2 keeps open (default: no bound). */
	    git_libgit2_opts(GIT_OPT_SET_MWINDOW_FILE_LIMIT, (size_t)128) < 0 ||
	    /* The archive's config is the only one that applies. */
	    git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, "") < 0 ||
	    git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, "") < 0 ||
	    git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, "") < 0)
		git_init_rc = -1;
}

int eakte_archive__git_init(void)
{
	pthread_once(&git_once, git_init_once);
	if (git_init_rc < 0)
		return eakte_archive__git_error(EAKTE_EIO, "initialising libgit2");
	return 0;
}

int eakte_archive__git_error(int code, const char *what)
{
	const git_error *e = git_error_last();

	return eakte_error__set(code, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

void eakte_archive__default_actor(char *out, size_t len)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	uid_t uid = geteuid();

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		snprintf(out, len, "unix:%lu:%s", (unsigned long)uid, res->pw_name);
	else
		snprintf(out, len, "unix:%lu", (unsigned long)uid);
}

void eakte_archive__now(char out[32], int64_t *epoch)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	*epoch = (int64_t)t;
}

const char *eakte_archive_origin(const eakte_archive *archive)
{
	return archive->origin;
}

uint64_t eakte_archive_size(const eakte_archive *archive)
{
	return archive->size;
}

void eakte_archive_free(eakte_archive *a)
{
	if (a == NULL)
		return;
	/* A writer closed before its tidy: the state rename becomes durable
	 * here, while this process still holds the writer lock (a failure
	 * only means the next writer rebuilds the state from the journal). */
	if (a->lock_fd >= 0)
		(void)eakte_journal__flush_state(a);
	eakte_index__close(a->index);
	/* The txnodb belongs to the odb once added; freeing the odb frees it. */
	git_odb_free(a->odb);
	git_repository_free(a->repo);
	eakte_key__free(a->key);
	if (a->objects_fd >= 0)
		close(a->objects_fd);
	if (a->lock_fd >= 0)
		close(a->lock_fd);
	if (a->dirfd >= 0)
		close(a->dirfd);
	free(a->leaves);
	free(a->commits);
	free(a->path);
	free(a);
}

static int valid_origin(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 200)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_' || c == '/' || c == ':'))
			return 0;
	}
	return 1;
}

/* Open store.git and the directories; no state yet. */
/*
 * libgit2 moves a reference by writing REF.lock and renaming it over REF.
 * A writer killed between the two leaves REF.lock behind, and every later
 * update of that reference would fail.  Only eakte writes store.git, and only
 * while holding the archive lock, which we now hold: such a file is the
 * remainder of a dead writer and is removed.  The reference itself is
 * untouched, so the state before the crash stands.
 */
static int remove_stale_ref_locks(int dirfd)
{
	static const char *const locks[] = {
		"store.git/" EAKTE_JOURNAL_REF ".lock",
		"store.git/" EAKTE_STATE_REF ".lock",
		"store.git/packed-refs.lock",
	};

	for (size_t i = 0; i < sizeof(locks) / sizeof(locks[0]); i++) {
		if (unlinkat(dirfd, locks[i], 0) != 0 && errno != ENOENT)
			return eakte_error__set_errno(eakte_error__from_errno(errno), errno,
				"cannot remove the stale lock file %s left by a writer that stopped "
				"(remove it by hand while no eakte process runs)", locks[i]);
	}
	return 0;
}

/*
 * (Re)open the object database: loose objects, the packs, and for a
 * writer the transaction store on top.  A writer holds the pack rescans
 * (packs.h): under the archive lock it is the only one adding packs.
 */
static int open_odb(eakte_archive *a)
{
	char objects[4200];
	git_odb *odb = NULL;
	eakte_packs *packs = NULL;
	eakte_txnodb *txnodb = NULL;
	int rc;

	if ((size_t)snprintf(objects, sizeof(objects), "%s/store.git/objects", a->path) >= sizeof(objects))
		return eakte_error__set(EAKTE_EINVALID, "archive path too long: %s", a->path);
	if ((rc = eakte_packs__open(&packs, &odb, a->repo, objects)) < 0)
		return rc;
	if (a->flags & EAKTE_OPEN_WRITE) {
		if ((rc = eakte_txnodb__attach(&txnodb, odb)) < 0) {
			git_odb_free(odb);
			return rc;
		}
		eakte_packs__hold(packs, 1);
	}
	/* The repository keeps its own reference to the new odb. */
	git_odb_free(a->odb);
	a->odb = odb;
	a->packs = packs;
	a->txnodb = txnodb;
	return 0;
}

int eakte_archive__reopen_odb(eakte_archive *a)
{
	return open_odb(a);
}

int eakte_archive__consolidate_packs(eakte_archive *a)
{
	char objects[4200];
	size_t merged = 0;
	int rc;

	if (a->txnodb == NULL)
		return 0;
	snprintf(objects, sizeof(objects), "%s/store.git/objects", a->path);
	if ((rc = eakte_packs__consolidate(objects, a->objects_fd, EAKTE_PACKS_MAX, &merged)) < 0)
		return rc;
	return merged > 0 ? open_odb(a) : 0;
}

int eakte_archive_tidy(eakte_archive *a)
{
	eakte_index *ix;

	if (a == NULL || a->lock_fd < 0)
		return eakte_error__set(EAKTE_EINVALID, "tidying needs the archive opened for writing");
	if (eakte_journal__flush_state(a) < 0)
		snprintf(a->warning, sizeof(a->warning), "%s", eakte_error_last());
	if (a->tidy_pending) {
		a->tidy_pending = 0;
		if (eakte_archive__consolidate_packs(a) < 0)
			snprintf(a->warning, sizeof(a->warning), "small packs in store.git were not merged "
				"(filing is unaffected; the next write tries again): %s", eakte_error_last());
	}
	if (eakte_index__for_writer(&ix, a) < 0)
		snprintf(a->warning, sizeof(a->warning),
			"the index was not updated (%s); it catches up on the next write or open", eakte_error_last());
	else
		eakte_index__warn_storage_error(a);
	return 0;
}

static int open_base(eakte_archive **out, const char *path, unsigned int flags)
{
	eakte_archive *a;
	char store[4096];
	int rc;

	*out = NULL;
	if ((rc = eakte_archive__git_init()) < 0)
		return rc;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return eakte_error__oom("opening the archive");
	a->dirfd = a->objects_fd = a->lock_fd = -1;
	a->flags = flags;
	eakte_conf__defaults(&a->conf);
	eakte_archive__default_actor(a->actor, sizeof(a->actor));
	a->path = strdup(path);
	if (a->path == NULL) {
		rc = eakte_error__oom("opening the archive");
		goto fail;
	}
	a->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (a->dirfd < 0) {
		rc = eakte_error__set_errno(eakte_error__from_errno(errno), errno,
			"cannot open archive directory %s (create one with `eakte init %s`)", path, path);
		goto fail;
	}
	if (flags & EAKTE_OPEN_WRITE) {
		if ((rc = eakte_fs__lock(&a->lock_fd, a->dirfd, "lock")) < 0)
			goto fail;
		if ((rc = remove_stale_ref_locks(a->dirfd)) < 0)
			goto fail;
	}
	a->objects_fd = openat(a->dirfd, "store.git/objects", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (a->objects_fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			rc = eakte_error__set(EAKTE_ENOTFOUND, "%s is not an eakte archive (no store.git/objects); "
				"create one with `eakte init`", path);
		else
			rc = eakte_error__set_errno(eakte_error__from_errno(errno), errno, "cannot open %s/store.git/objects", path);
		goto fail;
	}
	snprintf(store, sizeof(store), "%s/store.git", path);
	if (git_repository_open_bare(&a->repo, store) < 0) {
		rc = eakte_archive__git_error(EAKTE_ENOTFOUND, "opening store.git");
		goto fail;
	}
	/* Moving a reference through libgit2 (eakte init; commits move them
	 * themselves, journal.c) asks for an identity for the reflog (which is
	 * off): without one set, libgit2 reads a config snapshot each time,
	 * and crashed when an allocation in it failed (fault loops). */
	if (git_repository_set_ident(a->repo, "eakte", "eakte@localhost") < 0) {
		rc = eakte_archive__git_error(EAKTE_ENOMEM, "setting up store.git");
		goto fail;
	}
	if ((rc = open_odb(a)) < 0)
		goto fail;
	*out = a;
	return 0;
fail:
	eakte_archive_free(a);
	return rc;
}

static int load_private_key(eakte_archive *a)
{
	uint8_t pub[EAKTE_ED25519_PUB_LEN];
	int kfd, rc;

	kfd = openat(a->dirfd, "keys", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (kfd < 0)
		return eakte_error__set_errno(EAKTE_ENOTFOUND, errno, "cannot open %s/keys", a->path);
	rc = eakte_key__load_private(&a->key, kfd, "signing.pem");
	close(kfd);
	if (rc < 0)
		return eakte_error__wrap(rc, "%s/keys", a->path);
	eakte_key__public_raw(a->key, pub);
	if (a->has_state && memcmp(pub, a->pub, sizeof(pub)) != 0)
		return eakte_error__set(EAKTE_ESIGNATURE,
			"keys/signing.pem is not the archive's signing key (the genesis event names another key); "
			"restore the original key or run `eakte verify`");
	return 0;
}

int eakte_archive_open(eakte_archive **out, const char *path, unsigned int flags)
{
	eakte_archive *a;
	int rc;

	*out = NULL;
	if (path == NULL)
		return eakte_error__set(EAKTE_EINVALID, "no archive given (use --archive DIR or EAKTE_ARCHIVE)");
	if ((rc = open_base(&a, path, flags)) < 0)
		return rc;
	if ((rc = eakte_state__load(a)) < 0) {
		if (rc == EAKTE_ENOTFOUND)
			rc = eakte_error__set(EAKTE_ECORRUPT, "%s has no archive state (refs/eakte/state); "
				"it was not fully initialised or the state was removed", path);
		goto fail;
	}
	if (flags & EAKTE_OPEN_WRITE) {
		if ((rc = eakte_conf__load(&a->conf, a->dirfd)) < 0 || (rc = load_private_key(a)) < 0)
			goto fail;
		if ((rc = eakte_journal__catch_up(a)) < 0)
			goto fail;
	} else {
		/* A reader extracts pending text too ([extract] settings); a
		 * broken eakte.conf must not keep it from reading, though. */
		if (eakte_conf__load(&a->conf, a->dirfd) < 0) {
			snprintf(a->warning, sizeof(a->warning), "eakte.conf ignored for reading: %s", eakte_error_last());
			eakte_conf__defaults(&a->conf);
		}
		if ((rc = eakte_journal__catch_up_in_memory(a)) < 0) {
			/* A reader must still be able to open an archive whose journal
			 * no longer matches its state, so that verify can name the damage. */
			if (rc != EAKTE_ECORRUPT)
				goto fail;
			a->state_mismatch = 1;
		}
	}
	*out = a;
	return 0;
fail:
	eakte_archive_free(a);
	return rc;
}

static int write_key_files(int kfd, const eakte_key *key, const char *origin)
{
	uint8_t pub[EAKTE_ED25519_PUB_LEN];
	char *pem = NULL, *line = NULL, *vkey = NULL, *signers = NULL;
	int rc;

	eakte_key__public_raw(key, pub);
	if ((rc = eakte_key__save_private(key, kfd, "signing.pem")) < 0 ||
	    (rc = eakte_key__public_pem(&pem, key)) < 0 ||
	    (rc = eakte_fs__write_atomic(kfd, "signing.pub.pem", pem, strlen(pem), 0644)) < 0 ||
	    (rc = eakte_sshsig__public_key_line(&line, pub)) < 0 ||
	    (rc = eakte_note__verifier_key(&vkey, origin, pub)) < 0)
		goto out;
	if (asprintf(&signers, "%s namespaces=\"git\" %s\n", origin, line) < 0) {
		signers = NULL;
		rc = eakte_error__oom("writing allowed_signers");
		goto out;
	}
	if ((rc = eakte_fs__write_atomic(kfd, "allowed_signers", signers, strlen(signers), 0644)) < 0)
		goto out;
	free(signers);
	if (asprintf(&signers, "%s\n", vkey) < 0) {
		signers = NULL;
		rc = eakte_error__oom("writing note.vkey");
		goto out;
	}
	rc = eakte_fs__write_atomic(kfd, "note.vkey", signers, strlen(signers), 0644);
out:
	free(pem);
	free(line);
	free(vkey);
	free(signers);
	return rc;
}

/* 1 if path is an empty directory, 0 if it has entries, <0 on error. */
static int dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	}
	closedir(d);
	return empty;
}

int eakte_archive_init(const char *path, const eakte_init_options *opts)
{
	eakte_init_options defaults = EAKTE_INIT_OPTIONS_INIT;
	eakte_archive *a = NULL;
	eakte_key *key = NULL;
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	eakte_txn *t = NULL;
	json_t *ev = NULL, *k = NULL;
	char origin[256], store[4096], pubb64[64], host[128] = "localhost";
	uint8_t pub[EAKTE_ED25519_PUB_LEN], rnd[4];
	int dfd = -1, kfd = -1, rc;

	if (opts == NULL)
		opts = &defaults;
	if (opts->version != EAKTE_INIT_OPTIONS_VERSION)
		return eakte_error__set(EAKTE_EVERSION, "eakte_init_options version %u is not supported", opts->version);
	if (path == NULL || path[0] == '\0')
		return eakte_error__set(EAKTE_EINVALID, "no directory given for the new archive");
	if ((rc = eakte_archive__git_init()) < 0)
		return rc;
	if (opts->origin != NULL) {
		if (!valid_origin(opts->origin))
			return eakte_error__set(EAKTE_EINVALID,
				"origin \"%s\" is not valid: use 1-200 characters of A-Z a-z 0-9 . - _ / :", opts->origin);
		snprintf(origin, sizeof(origin), "%s", opts->origin);
	} else {
		char hex[9];
		size_t i;
		if (gethostname(host, sizeof(host)) != 0)
			strcpy(host, "localhost");
		host[sizeof(host) - 1] = '\0';
		for (i = 0; host[i]; i++)
			if (!valid_origin((char[]){ host[i], 0 }))
				host[i] = '-';
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return eakte_error__set(EAKTE_EIO, "cannot get random bytes");
		eakte_hex__encode(hex, rnd, sizeof(rnd));
		snprintf(origin, sizeof(origin), "eakte/%s-%s", host, hex);
	}
	if (mkdir(path, 0750) != 0 && errno != EEXIST)
		return eakte_error__set_errno(eakte_error__from_errno(errno), errno, "cannot create directory %s", path);
	rc = dir_is_empty(path);
	if (rc < 0)
		return eakte_error__set_errno(EAKTE_EIO, errno, "cannot read directory %s", path);
	if (rc == 0)
		return eakte_error__set(EAKTE_EEXISTS, "%s is not empty%s; init refuses to touch it", path,
			dir_is_empty(path) == 0 ? " (an archive or other files are there)" : "");
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return eakte_error__set_errno(EAKTE_EIO, errno, "cannot open %s", path);
	if (mkdirat(dfd, "keys", 0700) != 0 ||
	    (kfd = openat(dfd, "keys", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot create %s/keys", path);
		goto out;
	}
	if ((rc = eakte_key__generate(&key)) < 0 || (rc = write_key_files(kfd, key, origin)) < 0)
		goto out;
	snprintf(store, sizeof(store), "%s/store.git", path);
	if (git_repository_init(&repo, store, 1) < 0 || git_repository_config(&cfg, repo) < 0 ||
	    git_config_set_bool(cfg, "core.logAllRefUpdates", 0) < 0 ||
	    git_config_set_int32(cfg, "gc.auto", 0) < 0 ||
	    git_config_set_bool(cfg, "gc.autoDetach", 0) < 0 ||
	    git_config_set_string(cfg, "gc.pruneExpire", "never") < 0 ||
	    git_repository_set_head(repo, EAKTE_JOURNAL_REF) < 0) {
		rc = eakte_archive__git_error(EAKTE_EIO, "creating store.git");
		goto out;
	}
	git_config_free(cfg);
	cfg = NULL;
	git_repository_free(repo);
	repo = NULL;
	if ((rc = open_base(&a, path, EAKTE_OPEN_WRITE)) < 0)
		goto out;
	a->key = key;
	key = NULL;
	eakte_key__public_raw(a->key, a->pub);
	snprintf(a->origin, sizeof(a->origin), "%s", origin);
	if (opts->actor != NULL)
		snprintf(a->actor, sizeof(a->actor), "%s", opts->actor);
	eakte_key__public_raw(a->key, pub);
	eakte_base64__encode_to(pubb64, pub, sizeof(pub));
	ev = json_object();
	k = json_object();
	if (ev == NULL || k == NULL || json_object_set_new(ev, "action", json_string("genesis")) < 0 ||
	    json_object_set_new(ev, "origin", json_string(origin)) < 0 ||
	    json_object_set_new(k, "alg", json_string("ed25519")) < 0 ||
	    json_object_set_new(k, "public", json_string(pubb64)) < 0 ||
	    json_object_set(ev, "key", k) < 0) {
		rc = eakte_error__oom("building the genesis event");
		goto out;
	}
	if ((rc = eakte_fs__write_atomic(dfd, EAKTE_CONF_FILE, eakte_conf__default_text(),
		     strlen(eakte_conf__default_text()), 0644)) < 0)
		goto out;
	if ((rc = eakte_txn__begin(&t, a)) < 0 || (rc = eakte_txn__append(t, ev, NULL)) < 0 ||
	    (rc = eakte_txn__commit(t)) < 0)
		goto out;
	{
		eakte_index *ix;
		rc = eakte_index__for_writer(&ix, a);
	}
out:
	eakte_txn__free(t);
	json_decref(ev);
	json_decref(k);
	eakte_archive_free(a);
	git_config_free(cfg);
	git_repository_free(repo);
	eakte_key__free(key);
	if (kfd >= 0)
		close(kfd);
	if (dfd >= 0)
		close(dfd);
	return rc;
}
