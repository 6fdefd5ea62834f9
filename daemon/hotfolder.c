/*
 * hotfolder.c - scanner hotfolders; see hotfolder.h and eakted(8).
 *
 * When a file is complete.  A name is a candidate after IN_CLOSE_WRITE
 * or IN_MOVED_TO (the writer closed it or renamed it in), or when a full
 * scan (at start, after IN_Q_OVERFLOW, every rescan_interval) finds it.
 * A scanned file is only taken once its mtime is settle_ms old: a scan
 * cannot see whether someone still writes.  Temporary names of scanners,
 * SMB, SFTP and rsync are never candidates (ignored_name()).
 *
 * Exactly once.  The archive itself is the ledger; nothing in the
 * hotfolder (which others can write) decides whether a file was filed.
 *  (1) Every document filed from a hotfolder carries the metadata
 *      hotfolder-sha256 = SHA-256 of the source file (of the ZIP for its
 *      members), computed from the descriptor that is then filed.
 *  (2) Before filing, that value is looked up in the target Akte: in a
 *      process-wide ring of recent filings (the index may lag behind the
 *      writer by a moment) and with eakte_search() --meta.  Found: the
 *      content is there already; it is not filed again.
 *  (3) The source is moved to done/ (or removed) only after
 *      writer_submit() returned 0, i.e. the commit is durable.
 * A crash before (3) leaves the file in the hotfolder; the rescan at the
 * next start finds it, (2) finds its document (the reader's index is
 * caught up from the journal at open) and it is moved to done/ with a
 * NAME.duplicate.txt note.  A crash before the commit leaves nothing in
 * the archive: the file is filed then.  A duplicate dropped on purpose
 * takes the same path: done/, with the note naming the document.
 *
 * Untrusted input.  Entries are examined with fstatat(AT_SYMLINK_NOFOLLOW)
 * and opened with openat(O_NOFOLLOW|O_NONBLOCK) relative to the folder;
 * anything but a regular file with one link is moved to error/ by
 * renameat (which moves the link itself, never its target).  ZIP members
 * are streamed into unnamed files (O_TMPFILE, else memfd): their names
 * never touch the file system and are reduced to a sanitised base name.
 */
#include "hotfolder.h"
#include "sidecar.h"
#include "zipbatch.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#define MAX_CANDIDATES 10000     /* names waiting at once; a later scan finds the rest */
#define MAX_DEPTH 4              /* directories moved in, nested */
#define RETRY_MS 30000           /* after a transient failure (I/O, index) */
#define SETUP_RETRY_MS 10000     /* folder missing or unusable */
#define RECENT 4096
#define META_KEY HOTFOLDER_META_KEY

/* ------------------------------------------------------------------ */

typedef struct {
	char *name;
	long long due;         /* CLOCK_MONOTONIC ms */
	long long first;       /* first seen */
	int scanned;           /* found by a scan: must settle */
} cand;

typedef struct hf {
	dconf_hotfolder cfg;
	char archive[4096];
	writer *w;
	pthread_t thread;
	int stopfd;
	atomic_int stop;
	atomic_int rescan;
	char actor[96];
	/* the thread's own: */
	int dfd, donefd, errfd, ifd;
	dev_t dev;
	ino_t done_ino, err_ino;
	eakte_archive *ra;
	cand *c;
	size_t nc, capc;
	long long next_rescan;
	struct hf *next;
} hf;

struct hotfolders {
	char archive[4096];
	writer *w;
	hf *list;
};

/* Filings of the last moments, shared by all hotfolders: an index that
 * has not caught up yet must not let the same content in twice. */
static pthread_mutex_t recent_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char sha[65];
	char akte[257];
	char id[EAKTE_ID_LEN + 1];
} recent[RECENT];
static size_t recent_next;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long age_ms(const struct stat *st)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((long long)ts.tv_sec - st->st_mtim.tv_sec) * 1000 + (ts.tv_nsec - st->st_mtim.tv_nsec) / 1000000;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* Names that scanners, SMB, SFTP, browsers, editors and rsync use while a
 * file is still being written; they are taken once renamed. */
static int ignored_name(const char *n)
{
	static const char *const suffixes[] = {
		".tmp", ".temp", ".part", ".partial", ".filepart", ".crdownload", ".swp", ".download", "~",
		".error.txt", ".duplicate.txt",
	};
	if (n[0] == '.' || strncmp(n, "~$", 2) == 0)
		return 1;   /* also rsync's .NAME.XXXXXX and our own state */
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (ends_with(n, suffixes[i]))
			return 1;
	return 0;
}

static int is_sidecar(const char *n)
{
	size_t len = strlen(n);
	return len > 5 && strcmp(n + len - 5, ".json") == 0;
}

static void logf_(const hf *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(const hf *h, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "eakted: hotfolder %s: %s\n", h->cfg.name, msg);
}

/* ------------------------------------------------------------------ */
/* Moving things to done/ and error/                                   */
/* ------------------------------------------------------------------ */

/* Rename pfd/name into dir tofd without replacing anything there: "a.pdf",
 * then "a (2).pdf", ...  The final name goes to `final`. */
static int move_into(int pfd, const char *name, int tofd, char *final, size_t flen)
{
	const char *dot = strrchr(name, '.');
	size_t stem = dot && dot != name ? (size_t)(dot - name) : strlen(name);

	for (unsigned int k = 1; k < 10000; k++) {
		if (k == 1)
			snprintf(final, flen, "%s", name);
		else
			snprintf(final, flen, "%.*s (%u)%s", (int)(stem > 200 ? 200 : stem), name, k, name + stem);
		if (renameat2(pfd, name, tofd, final, RENAME_NOREPLACE) == 0) {
			(void)fsync(tofd);   /* best effort: a lost rename only means a second look */
			(void)fsync(pfd);
			return 0;
		}
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

/* A note next to a moved file: FINAL.SUFFIX, never replacing anything. */
/* FINAL<suffix> with `text`, appearing only complete: written under a
 * temporary name, synced, then renamed without replacing anything (whoever
 * watches done/ or error/ never reads half a reason). */
static void write_note(const hf *h, int dirfd, const char *final, const char *suffix, const char *text)
{
	char name[NAME_MAX + 64], tmp[NAME_MAX + 80];
	size_t len = strlen(text);
	int fd, ok = 1;

	snprintf(name, sizeof(name), "%s%s", final, suffix);
	snprintf(tmp, sizeof(tmp), ".%s.part", name);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0) {
		logf_(h, "cannot write %s: %s", name, strerror(errno));
		return;
	}
	for (size_t off = 0; off < len && ok;) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			logf_(h, "cannot write %s: %s", name, strerror(errno));
			ok = 0;
			break;
		}
		off += (size_t)n;
	}
	if (ok && fsync(fd) != 0) {
		logf_(h, "cannot sync %s: %s", name, strerror(errno));
		ok = 0;
	}
	close(fd);
	if (ok && renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE) != 0) {
		logf_(h, "cannot write %s: %s", name, strerror(errno));
		ok = 0;
	}
	if (!ok)
		unlinkat(dirfd, tmp, 0);
}

static void now_text(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The names that could not be moved: not looked at again until the next
 * rescan, so that a broken error/ does not make a busy loop. */
static int stuck(hf *h, const char *disp)
{
	logf_(h, "cannot move %s out of the hotfolder: %s; it stays there (fix the permissions of %s)",
		disp, strerror(errno), h->cfg.dir);
	return 0;
}

/*
 * Refuse pfd/name: move it (and its sidecar, if any) to error/ and write
 * FINAL.error.txt with the reason in German and English.
 */
static void refuse(hf *h, int pfd, const char *name, const char *disp, int sidecar_too,
	const char *de, const char *en)
{
	char final[NAME_MAX + 32], text[8192], when[32], scname[NAME_MAX + 8];

	if (move_into(pfd, name, h->errfd, final, sizeof(final)) < 0) {
		stuck(h, disp);
		return;
	}
	/* The sidecar first: whoever sees the reason file finds both. */
	if (sidecar_too) {
		char scfinal[NAME_MAX + 32];
		snprintf(scname, sizeof(scname), "%s.json", name);
		if (move_into(pfd, scname, h->errfd, scfinal, sizeof(scfinal)) < 0 && errno != ENOENT)
			stuck(h, scname);
	}
	now_text(when, sizeof(when));
	snprintf(text, sizeof(text),
		"Datei / file: %s\n"
		"Hotfolder: %s (%s)\n"
		"Zeit / time: %s\n"
		"\n"
		"Die Datei wurde NICHT abgelegt.\n"
		"Grund: %s\n"
		"Was tun: den Grund beheben und die Datei erneut in den Hotfolder legen.\n"
		"\n"
		"The file was NOT filed.\n"
		"Reason: %s\n"
		"What to do: fix the reason and put the file into the hotfolder again.\n",
		disp, h->cfg.name, h->cfg.dir, when, de, en);
	write_note(h, h->errfd, final, ".error.txt", text);
	logf_(h, "refused %s (now error/%s): %s", disp, final, en);
}

/* After a durable filing (or a duplicate): to done/, or removed. */
static void finish(hf *h, int pfd, const char *name, const char *disp, int with_sidecar, const char *note)
{
	char final[NAME_MAX + 32], scname[NAME_MAX + 8];
	int n = with_sidecar ? 2 : 1;

	for (int i = 0; i < n; i++) {
		const char *nm = name;
		if (i == 1) {
			snprintf(scname, sizeof(scname), "%s.json", name);
			nm = scname;
		}
		if (h->cfg.remove_done && note == NULL) {
			if (unlinkat(pfd, nm, 0) != 0 && errno != ENOENT)
				stuck(h, disp);
			continue;
		}
		if (move_into(pfd, nm, h->donefd, final, sizeof(final)) < 0) {
			if (errno != ENOENT)
				stuck(h, disp);
			continue;
		}
		if (i == 0 && note != NULL)
			write_note(h, h->donefd, final, ".duplicate.txt", note);
	}
	if (!h->cfg.remove_done || note)
		(void)fsync(h->donefd);
}

/* ------------------------------------------------------------------ */
/* Content: hashing, ZIP batches                                       */
/* ------------------------------------------------------------------ */

static int sha256_fd(int fd, char hex[65])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char buf[65536], md[32];
	unsigned int mdlen = 0;
	int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;

	while (ok) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ok = 0;
		if (n <= 0)
			break;
		ok = EVP_DigestUpdate(ctx, buf, (size_t)n) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
	EVP_MD_CTX_free(ctx);
	if (!ok || lseek(fd, 0, SEEK_SET) != 0)
		return -1;
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Duplicates                                                          */
/* ------------------------------------------------------------------ */

/* Is content `sha` from a hotfolder already in Akte `akte`?  1 yes (id
 * in `id`), 0 no, -1 could not look (retry later). */
static int already_filed(hf *h, const char *akte, const char *sha, char id[EAKTE_ID_LEN + 1])
{
	eakte_search_options so = EAKTE_SEARCH_OPTIONS_INIT;
	char filter[sizeof(META_KEY) + 80], *out = NULL;
	const char *filters[1] = { filter };
	json_t *root, *hits;
	int rc, found = 0;

	pthread_mutex_lock(&recent_mu);
	for (size_t i = 0; i < RECENT; i++)
		if (strcmp(recent[i].sha, sha) == 0 && strcmp(recent[i].akte, akte) == 0) {
			memcpy(id, recent[i].id, EAKTE_ID_LEN + 1);
			found = 1;
			break;
		}
	pthread_mutex_unlock(&recent_mu);
	if (found)
		return 1;
	if (h->ra == NULL && eakte_archive_open(&h->ra, h->archive, EAKTE_OPEN_READ | EAKTE_OPEN_NO_EXTRACT) < 0) {
		logf_(h, "cannot open the archive to look for duplicates: %s; retrying later", eakte_error_last());
		return -1;
	}
	snprintf(filter, sizeof(filter), "%s=%s", META_KEY, sha);
	so.akte = akte;
	so.meta = filters;
	so.meta_count = 1;
	so.limit = 1;
	so.sort = "oldest";
	rc = eakte_search(&out, h->ra, &so);
	if (rc == EAKTE_EINVALID)
		return 0;   /* a malformed Aktenzeichen: the writer will say so */
	if (rc < 0) {
		logf_(h, "cannot look for duplicates: %s; retrying later", eakte_error_last());
		eakte_archive_free(h->ra);
		h->ra = NULL;
		return -1;
	}
	root = json_loads(out, 0, NULL);
	eakte_free(out);
	hits = root ? json_object_get(root, "hits") : NULL;
	if (json_array_size(hits) > 0) {
		const char *s = json_string_value(json_object_get(json_array_get(hits, 0), "id"));
		snprintf(id, EAKTE_ID_LEN + 1, "%s", s ? s : "?");
		found = 1;
	}
	json_decref(root);
	if (found)
		return 1;
	/* The same bytes filed any other way (eakte file, another folder). */
	rc = eakte_doc_find_content(id, h->ra, akte, sha);
	if (rc < 0) {
		logf_(h, "cannot look for duplicates: %s; retrying later", eakte_error_last());
		eakte_archive_free(h->ra);
		h->ra = NULL;
		return -1;
	}
	return rc;
}

static void remember(const char *akte, const char *sha, const char *id)
{
	pthread_mutex_lock(&recent_mu);
	snprintf(recent[recent_next].sha, sizeof(recent[0].sha), "%s", sha);
	snprintf(recent[recent_next].akte, sizeof(recent[0].akte), "%s", akte);
	snprintf(recent[recent_next].id, sizeof(recent[0].id), "%s", id);
	recent_next = (recent_next + 1) % RECENT;
	pthread_mutex_unlock(&recent_mu);
}

/* ------------------------------------------------------------------ */
/* One file                                                            */
/* ------------------------------------------------------------------ */

enum { DONE = 0, LATER = 1 };

static int process_item(hf *h, int pfd, const char *name, const char *disp, cand *c, int depth);

static void explain_rc(int rc, const char *akte, const char *msg, char *de, char *en, size_t rlen)
{
	switch (rc) {
	case EAKTE_ENOTFOUND:
		snprintf(de, rlen, "Die Akte %s gibt es nicht (oder ein Vorgang fehlt). Meldung: %s", akte, msg);
		snprintf(en, rlen, "Akte %s does not exist (or a Vorgang is missing): %s", akte, msg);
		break;
	case EAKTE_EPOLICY:
		snprintf(de, rlen, "Abgelehnt: das Dateiformat ist nicht zugelassen oder die Akte %s ist geschlossen. Meldung: %s", akte, msg);
		snprintf(en, rlen, "refused: the file format is not allowed or Akte %s is closed: %s", akte, msg);
		break;
	default:
		snprintf(de, rlen, "Ungültige Angaben (Aktenzeichen, Titel, Vorgang oder Metadaten). Meldung: %s", msg);
		snprintf(en, rlen, "invalid data (Aktenzeichen, title, Vorgang or metadata): %s", msg);
		break;
	}
}

static int transient(int rc)
{
	return rc == EAKTE_EIO || rc == EAKTE_ENOMEM || rc == EAKTE_ELOCKED || rc == EAKTE_ECORRUPT;
}

/* A regular file that is complete: file it (or its ZIP members). */
static int file_one(hf *h, int pfd, const char *name, const char *disp, cand *c, const struct stat *lst)
{
	char de[1400], en[1400], sha[65], id[EAKTE_ID_LEN + 1], quelle[600];
	char shameta[sizeof(META_KEY) + 80], quellemeta[700];
	struct stat st, scst;
	sidecar sc;
	const char *akte;
	zip_member *m = NULL, single;
	size_t nm = 0, nmeta = 0;
	const char **meta = NULL;
	eakte_file_options *opts = NULL;
	char (*ids)[EAKTE_ID_LEN + 1] = NULL;
	char **titles = NULL, **labels = NULL;
	int *fds = NULL;
	eakte_staged **staged = NULL;
	int fd = -1, required, rc, result = DONE, is_zip = 0;
	wjob job;

	required = h->cfg.sidecar_required || strcmp(h->cfg.akte, "sidecar") == 0;
	rc = sidecar_load(pfd, name, &sc, &scst, de, en, sizeof(de));
	if (rc == -2) {
		logf_(h, "cannot read the sidecar of %s: %s; retrying later", disp, strerror(errno));
		if (c)
			c->due = now_ms() + RETRY_MS;
		return c ? LATER : DONE;
	}
	if (c && sc.present && (rc == -1 || c->scanned) && age_ms(&scst) < h->cfg.settle_ms) {
		/* A sidecar still being written is not yet invalid. */
		sidecar_free(&sc);
		c->due = now_ms() + h->cfg.settle_ms;
		return LATER;
	}
	if (rc == -1) {
		refuse(h, pfd, name, disp, 1, de, en);
		return DONE;
	}
	if (!sc.present && required) {
		if (c && now_ms() < c->first + (long long)h->cfg.sidecar_wait_s * 1000) {
			c->due = c->first + (long long)h->cfg.sidecar_wait_s * 1000;
			return LATER;
		}
		snprintf(de, sizeof(de), "Die Metadaten-Datei %s.json fehlt (dieser Hotfolder verlangt sie; gewartet: %u s).",
			name, h->cfg.sidecar_wait_s);
		snprintf(en, sizeof(en), "the sidecar %s.json is missing (this hotfolder requires one; waited %u s).",
			name, h->cfg.sidecar_wait_s);
		refuse(h, pfd, name, disp, 0, de, en);
		return DONE;
	}
	akte = h->cfg.akte;
	if (strcmp(akte, "sidecar") == 0) {
		if (sc.akte == NULL) {
			snprintf(de, sizeof(de), "Die Metadaten-Datei %s.json nennt keine Akte (\"akte\").", name);
			snprintf(en, sizeof(en), "the sidecar %s.json names no Akte (\"akte\").", name);
			goto refuse;
		}
		akte = sc.akte;
	} else if (sc.akte != NULL && strcmp(sc.akte, akte) != 0) {
		snprintf(de, sizeof(de), "Dieser Hotfolder legt nur in die Akte %s ab, die Metadaten-Datei nennt %s.", akte, sc.akte);
		snprintf(en, sizeof(en), "this hotfolder files into Akte %s only; the sidecar names %s.", akte, sc.akte);
		goto refuse;
	}

	fd = openat(pfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			goto out;
		snprintf(de, sizeof(de), "Die Datei lässt sich nicht öffnen: %s.", strerror(errno));
		snprintf(en, sizeof(en), "the file cannot be opened: %s.", strerror(errno));
		goto refuse;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_ino != lst->st_ino ||
	    st.st_dev != lst->st_dev) {
		snprintf(de, sizeof(de), "Die Datei wurde während der Prüfung ausgetauscht oder ist keine gewöhnliche Datei.");
		snprintf(en, sizeof(en), "the file was replaced while it was checked, or is not a plain file.");
		goto refuse;
	}
	if (sha256_fd(fd, sha) < 0) {
		logf_(h, "cannot read %s: %s; retrying later", disp, strerror(errno));
		goto retry;
	}
	rc = already_filed(h, akte, sha, id);
	if (rc < 0)
		goto retry;
	if (rc == 1) {
		char note[1600], when[32];
		now_text(when, sizeof(when));
		snprintf(note, sizeof(note),
			"Datei / file: %s\nHotfolder: %s\nZeit / time: %s\nSHA-256: %s\n\n"
			"Nicht erneut abgelegt: derselbe Inhalt ist bereits als Dokument %s in der Akte %s abgelegt "
			"(doppelt eingelegt, oder nach einem Neustart wiedergefunden).\n\n"
			"Not filed again: the same content is filed already as document %s in Akte %s "
			"(put in twice, or found again after a restart).\n",
			disp, h->cfg.name, when, sha, id, akte, id, akte);
		logf_(h, "%s is already filed as %s in %s; moved to done/ with a note", disp, id, akte);
		close(fd);
		fd = -1;
		finish(h, pfd, name, disp, sc.present, note);
		goto out;
	}

	if (ends_with(name, ".zip")) {
		char magic[4];
		if (pread(fd, magic, 4, 0) == 4 && memcmp(magic, "PK\x03\x04", 4) == 0)
			is_zip = 1;
	}
	if (is_zip) {
		rc = zip_unpack(&h->cfg, h->errfd, fd, st.st_size, &m, &nm, de, en, sizeof(de));
		if (rc == -2) {
			logf_(h, "cannot unpack %s: %s; retrying later", disp, strerror(errno));
			goto retry;
		}
		if (rc == -1)
			goto refuse;
	} else {
		single.fd = fd;
		snprintf(single.name, sizeof(single.name), "%s", name);
		m = &single;
		nm = 1;
	}

	/* Metadata: the folder's defaults, then the sidecar's (which win),
	 * then what the exactly-once look-up needs. */
	meta = calloc(h->cfg.nmeta + sc.nmeta + 2, sizeof(*meta));
	opts = calloc(nm, sizeof(*opts));
	ids = calloc(nm, sizeof(*ids));
	fds = calloc(nm, sizeof(*fds));
	staged = calloc(nm, sizeof(*staged));
	titles = calloc(nm, sizeof(*titles));
	labels = calloc(nm, sizeof(*labels));
	if (!meta || !opts || !ids || !fds || !staged || !titles || !labels)
		goto retry;
	for (size_t i = 0; i < h->cfg.nmeta; i++) {
		size_t kl = strcspn(h->cfg.meta[i], "=");
		int overridden = 0;
		for (size_t j = 0; j < sc.nmeta; j++)
			if (strncmp(sc.meta[j], h->cfg.meta[i], kl + 1) == 0)
				overridden = 1;
		if (!overridden)
			meta[nmeta++] = h->cfg.meta[i];
	}
	for (size_t j = 0; j < sc.nmeta; j++)
		meta[nmeta++] = sc.meta[j];
	snprintf(quelle, sizeof(quelle), "hotfolder %s: %.500s", h->cfg.name, disp);
	snprintf(shameta, sizeof(shameta), "%s=%s", META_KEY, sha);
	snprintf(quellemeta, sizeof(quellemeta), "quelle=%s", quelle);
	meta[nmeta++] = shameta;
	meta[nmeta++] = quellemeta;
	for (size_t i = 0; i < nm; i++) {
		eakte_file_options o = EAKTE_FILE_OPTIONS_INIT;
		size_t tl = (sc.title ? strlen(sc.title) : 0) + strlen(m[i].name) + 8;
		size_t ll = strlen(disp) + strlen(m[i].name) + 4;
		if ((titles[i] = malloc(tl)) == NULL || (labels[i] = malloc(ll)) == NULL)
			goto retry;
		if (sc.title && is_zip)
			snprintf(titles[i], tl, "%s (%s)", sc.title, m[i].name);
		else
			snprintf(titles[i], tl, "%s", sc.title ? sc.title : m[i].name);
		if (is_zip)
			snprintf(labels[i], ll, "%s: %s", disp, m[i].name);
		else
			snprintf(labels[i], ll, "%s", disp);
		o.akte = akte;
		o.title = titles[i];
		o.filename = m[i].name;
		o.meta = meta;
		o.meta_count = nmeta;
		o.actor = h->actor;
		o.vorgang = sc.vorgang ? sc.vorgang : h->cfg.vorgang;
		o.label = labels[i];
		opts[i] = o;
		fds[i] = m[i].fd;
	}
	/* The content goes into the store on this thread, as for a client:
	 * a large scan delays no other commit. */
	for (size_t i = 0; i < nm; i++) {
		char why[1024];
		int src = 0;

		if (lseek(fds[i], 0, SEEK_SET) < 0) {
			src = EAKTE_EIO;
			snprintf(why, sizeof(why), "cannot read %s from its start: %s", labels[i], strerror(errno));
		} else if ((src = writer_stage(h->w, fds[i], labels[i], &staged[i])) < 0) {
			snprintf(why, sizeof(why), "%s", eakte_error_last());
		}
		if (src < 0) {
			if (transient(src)) {
				logf_(h, "cannot file %s now: %s; retrying in %d s", disp, why, RETRY_MS / 1000);
				goto retry;
			}
			explain_rc(src, akte, why, de, en, sizeof(de));
			goto refuse;
		}
	}
	memset(&job, 0, sizeof(job));
	job.n = nm;
	job.fds = fds;
	job.opts = opts;
	job.staged = staged;
	job.ids = ids;
	writer_submit(h->w, &job);
	if (job.rc == 0) {
		remember(akte, sha, ids[0]);
		if (nm == 1)
			logf_(h, "filed %s as %s in %s", disp, ids[0], akte);
		else
			logf_(h, "filed %s: %zu documents (%s ...) in %s", disp, nm, ids[0], akte);
		close(fd);
		fd = -1;
		finish(h, pfd, name, disp, sc.present, NULL);
		goto out;
	}
	if (transient(job.rc)) {
		logf_(h, "cannot file %s now: %s; retrying in %d s", disp, job.error, RETRY_MS / 1000);
		goto retry;
	}
	explain_rc(job.rc, akte, job.error, de, en, sizeof(de));
	goto refuse;

retry:
	if (c) {
		c->due = now_ms() + RETRY_MS;
		result = LATER;
	}
	goto out;
refuse:
	if (fd >= 0) {
		close(fd);
		fd = -1;
	}
	refuse(h, pfd, name, disp, sc.present, de, en);
out:
	if (is_zip)
		zip_members_free(m, nm);
	for (size_t i = 0; titles && i < nm; i++)
		free(titles[i]);
	for (size_t i = 0; labels && i < nm; i++)
		free(labels[i]);
	free(titles);
	free(labels);
	free(meta);
	free(opts);
	free(ids);
	for (size_t i = 0; staged && i < nm; i++)
		eakte_staged_free(staged[i]);
	free(staged);
	free(fds);
	if (fd >= 0)
		close(fd);
	sidecar_free(&sc);
	return result;
}

/* A directory moved in: its files, then the directory if it is empty. */
static int process_dir(hf *h, int pfd, const char *name, const char *disp, int depth)
{
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int dfd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), dfd2;

	if (dfd < 0)
		return DONE;
	if ((dfd2 = dup(dfd)) < 0 || (d = fdopendir(dfd2)) == NULL) {
		if (dfd2 >= 0)
			close(dfd2);
		close(dfd);
		return DONE;
	}
	while ((de = readdir(d)) != NULL && n < MAX_CANDIDATES) {
		char **nn;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((nn = realloc(names, (n + 1) * sizeof(*nn))) == NULL)
			break;
		names = nn;
		if ((names[n] = strdup(de->d_name)) == NULL)
			break;
		n++;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		char sub[PATH_MAX];
		if (!atomic_load(&h->stop)) {
			snprintf(sub, sizeof(sub), "%s/%s", disp, names[i]);
			process_item(h, dfd, names[i], sub, NULL, depth + 1);
		}
		free(names[i]);
	}
	free(names);
	close(dfd);
	if (unlinkat(pfd, name, AT_REMOVEDIR) == 0)
		logf_(h, "removed the emptied directory %s", disp);
	else if (errno == ENOTEMPTY || errno == EEXIST)
		logf_(h, "directory %s is not empty after filing (temporary names?); left in place", disp);
	return DONE;
}

/*
 * Look at pfd/name.  c is the candidate for a top-level name (it may be
 * put off: settling, waiting for a sidecar), NULL inside a directory
 * moved in (everything is decided now).
 */
static int process_item(hf *h, int pfd, const char *name, const char *disp, cand *c, int depth)
{
	char de[600], en[600];
	struct stat st;

	if (ignored_name(name))
		return DONE;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return DONE;   /* gone: renamed by its writer, or taken already */
	if (pfd == h->dfd && S_ISDIR(st.st_mode) && st.st_dev == h->dev &&
	    (st.st_ino == h->done_ino || st.st_ino == h->err_ino))
		return DONE;
	/* A modification time in the future (a share's clock) counts as settled. */
	if (c && c->scanned && age_ms(&st) >= 0 && age_ms(&st) < h->cfg.settle_ms) {
		c->due = now_ms() + h->cfg.settle_ms;
		return LATER;
	}
	if (S_ISDIR(st.st_mode)) {
		if (depth >= MAX_DEPTH) {
			snprintf(de, sizeof(de), "Verzeichnisse sind höchstens %d Ebenen tief erlaubt.", MAX_DEPTH);
			snprintf(en, sizeof(en), "directories may be nested at most %d deep.", MAX_DEPTH);
			refuse(h, pfd, name, disp, 0, de, en);
			return DONE;
		}
		return process_dir(h, pfd, name, disp, depth);
	}
	if (!S_ISREG(st.st_mode)) {
		const char *tde = S_ISLNK(st.st_mode) ? "eine symbolische Verknüpfung" : S_ISFIFO(st.st_mode) ? "eine Pipe (FIFO)" :
			S_ISSOCK(st.st_mode) ? "ein Socket" : "eine Gerätedatei";
		const char *ten = S_ISLNK(st.st_mode) ? "a symbolic link" : S_ISFIFO(st.st_mode) ? "a pipe (FIFO)" :
			S_ISSOCK(st.st_mode) ? "a socket" : "a device file";
		snprintf(de, sizeof(de), "Das ist %s, keine gewöhnliche Datei; es wurde nicht gelesen.", tde);
		snprintf(en, sizeof(en), "this is %s, not a plain file; it was not read.", ten);
		refuse(h, pfd, name, disp, 0, de, en);
		return DONE;
	}
	if (st.st_nlink != 1) {
		snprintf(de, sizeof(de), "Die Datei hat %lu harte Links (sie liegt auch anderswo); nur Dateien mit einem Link werden abgelegt.",
			(unsigned long)st.st_nlink);
		snprintf(en, sizeof(en), "the file has %lu hard links (it also exists elsewhere); only files with one link are filed.",
			(unsigned long)st.st_nlink);
		refuse(h, pfd, name, disp, 0, de, en);
		return DONE;
	}
	if (is_sidecar(name)) {
		char stem[NAME_MAX + 1];
		struct stat sst;
		long long wait = (long long)h->cfg.sidecar_wait_s * 1000 + h->cfg.settle_ms + 60000;
		snprintf(stem, sizeof(stem), "%.*s", (int)(strlen(name) - 5), name);
		if (fstatat(pfd, stem, &sst, AT_SYMLINK_NOFOLLOW) == 0)
			return DONE;   /* goes with its document */
		if (c && age_ms(&st) < wait) {
			c->due = now_ms() + wait - age_ms(&st);
			return LATER;
		}
		snprintf(de, sizeof(de), "Metadaten-Datei ohne Dokument: %s fehlt.", stem);
		snprintf(en, sizeof(en), "a sidecar without its document: %s is missing.", stem);
		refuse(h, pfd, name, disp, 0, de, en);
		return DONE;
	}
	return file_one(h, pfd, name, disp, c, &st);
}

/* ------------------------------------------------------------------ */
/* The thread: candidates, inotify, scans                              */
/* ------------------------------------------------------------------ */

static cand *cand_find(hf *h, const char *name)
{
	for (size_t i = 0; i < h->nc; i++)
		if (strcmp(h->c[i].name, name) == 0)
			return &h->c[i];
	return NULL;
}

static void cand_add(hf *h, const char *name, int scanned, long long due)
{
	cand *c = cand_find(h, name);

	if (c != NULL) {
		if (!scanned) {
			c->scanned = 0;   /* a close or rename is the better signal */
			c->due = due;
		}
		return;
	}
	if (h->nc == MAX_CANDIDATES) {
		atomic_store(&h->rescan, 1);   /* later: the scan after these */
		return;
	}
	if (h->nc == h->capc) {
		size_t nc = h->capc ? h->capc * 2 : 64;
		cand *n = realloc(h->c, nc * sizeof(*n));
		if (n == NULL)
			return;
		h->c = n;
		h->capc = nc;
	}
	if ((h->c[h->nc].name = strdup(name)) == NULL)
		return;
	h->c[h->nc].due = due;
	h->c[h->nc].first = now_ms();
	h->c[h->nc].scanned = scanned;
	h->nc++;
}

static void cand_del(hf *h, size_t i)
{
	free(h->c[i].name);
	h->c[i] = h->c[--h->nc];
}

static void scan(hf *h)
{
	struct dirent *de;
	DIR *d;
	int fd = dup(h->dfd);

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		logf_(h, "cannot read %s: %s", h->cfg.dir, strerror(errno));
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL)
		if (!ignored_name(de->d_name))
			cand_add(h, de->d_name, 1, now_ms());
	closedir(d);
	h->next_rescan = h->cfg.rescan_s ? now_ms() + (long long)h->cfg.rescan_s * 1000 : LLONG_MAX;
}

static void teardown(hf *h)
{
	if (h->ifd >= 0)
		close(h->ifd);
	if (h->dfd >= 0)
		close(h->dfd);
	if (h->donefd >= 0 && h->donefd != h->dfd)
		close(h->donefd);
	if (h->errfd >= 0)
		close(h->errfd);
	h->ifd = h->dfd = h->donefd = h->errfd = -1;
	for (size_t i = 0; i < h->nc; i++)
		free(h->c[i].name);
	h->nc = 0;
}

/* done/ or error/: inside the folder by default (created, never a
 * symlink), or configured; on the folder's file system either way. */
static int open_sub(hf *h, const char *configured, const char *dflt, ino_t *ino)
{
	struct stat st;
	int fd;

	if (configured[0]) {
		fd = open(configured, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		if (mkdirat(h->dfd, dflt, 0750) != 0 && errno != EEXIST) {
			logf_(h, "cannot create %s/%s: %s", h->cfg.dir, dflt, strerror(errno));
			return -1;
		}
		fd = openat(h->dfd, dflt, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		logf_(h, "cannot open %s%s%s: %s", configured[0] ? configured : h->cfg.dir, configured[0] ? "" : "/",
			configured[0] ? "" : dflt, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || st.st_dev != h->dev) {
		logf_(h, "%s must be on the same file system as %s (files are moved there by rename)",
			configured[0] ? configured : dflt, h->cfg.dir);
		close(fd);
		return -1;
	}
	*ino = st.st_ino;
	return fd;
}

static int setup(hf *h)
{
	struct stat st;

	h->dfd = open(h->cfg.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (h->dfd < 0 || fstat(h->dfd, &st) != 0) {
		logf_(h, "cannot open %s: %s; retrying every %d s", h->cfg.dir, strerror(errno), SETUP_RETRY_MS / 1000);
		teardown(h);
		return -1;
	}
	h->dev = st.st_dev;
	if ((h->errfd = open_sub(h, h->cfg.error_dir, "error", &h->err_ino)) < 0)
		goto fail;
	/* With after_filing = remove, done/ still takes duplicates and their notes. */
	if ((h->donefd = open_sub(h, h->cfg.done_dir, "done", &h->done_ino)) < 0)
		goto fail;
	if ((h->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0 ||
	    inotify_add_watch(h->ifd, h->cfg.dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ONLYDIR | IN_DELETE_SELF |
		IN_MOVE_SELF) < 0) {
		logf_(h, "cannot watch %s: %s (fs.inotify.max_user_watches?)", h->cfg.dir, strerror(errno));
		goto fail;
	}
	logf_(h, "watching %s (Akte %s)", h->cfg.dir, h->cfg.akte);
	scan(h);
	return 0;
fail:
	teardown(h);
	return -1;
}

/* Read the inotify events; -1 if the folder itself went away. */
static int read_events(hf *h)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(h->ifd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				logf_(h, "too many events at once (inotify queue overflow); scanning the folder");
				atomic_store(&h->rescan, 1);
			}
			if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)) {
				logf_(h, "%s was removed, moved or unmounted; watching it again when it is back", h->cfg.dir);
				return -1;
			}
			if (ev->len == 0 || ignored_name(ev->name))
				continue;
			if (is_sidecar(ev->name)) {
				/* Its document may be waiting for it. */
				char stem[NAME_MAX + 1];
				cand *c;
				snprintf(stem, sizeof(stem), "%.*s", (int)(strlen(ev->name) - 5), ev->name);
				if ((c = cand_find(h, stem)) != NULL)
					c->due = now_ms();
			}
			if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))
				cand_add(h, ev->name, 0, now_ms());
			else if (ev->mask & IN_CREATE) {
				/* A new plain file is taken when closed; links, pipes,
				 * devices and hard links never close: refuse them now. */
				struct stat st;
				if (fstatat(h->dfd, ev->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode) &&
				    (!S_ISREG(st.st_mode) || st.st_nlink > 1))
					cand_add(h, ev->name, 0, now_ms());
			}
		}
	}
}

static void *run(void *arg)
{
	hf *h = arg;

	while (!atomic_load(&h->stop)) {
		struct pollfd p[2];
		long long next, now;
		int timeout;

		if (h->dfd < 0 && setup(h) < 0) {
			p[0].fd = h->stopfd;
			p[0].events = POLLIN;
			(void)poll(p, 1, SETUP_RETRY_MS);
			continue;
		}
		if (atomic_exchange(&h->rescan, 0))
			scan(h);
		now = now_ms();
		next = h->next_rescan;
		for (size_t i = 0; i < h->nc; i++)
			if (h->c[i].due < next)
				next = h->c[i].due;
		timeout = next <= now ? 0 : next - now > 600000 ? 600000 : (int)(next - now);
		p[0].fd = h->stopfd;
		p[0].events = POLLIN;
		p[1].fd = h->ifd;
		p[1].events = POLLIN;
		if (poll(p, 2, timeout) < 0 && errno != EINTR) {
			logf_(h, "poll: %s", strerror(errno));
			break;
		}
		if (atomic_load(&h->stop))
			break;
		if (p[0].revents & POLLIN) {
			uint64_t v;
			(void)!read(h->stopfd, &v, sizeof(v));   /* a SIGHUP's wake-up: rescan below */
			if (atomic_exchange(&h->rescan, 0))
				scan(h);
		}
		if ((p[1].revents & POLLIN) && read_events(h) < 0) {
			teardown(h);
			continue;
		}
		if (now_ms() >= h->next_rescan)
			scan(h);
		/* The due names, oldest first, each one decided or put off. */
		for (;;) {
			size_t best = SIZE_MAX;
			now = now_ms();
			for (size_t i = 0; i < h->nc; i++)
				if (h->c[i].due <= now && (best == SIZE_MAX || h->c[i].due < h->c[best].due))
					best = i;
			if (best == SIZE_MAX || atomic_load(&h->stop))
				break;
			/* process_item() changes only this entry, never the table. */
			if (process_item(h, h->dfd, h->c[best].name, h->c[best].name, &h->c[best], 0) == DONE)
				cand_del(h, best);
			/* Stay responsive to new events between long filings. */
			if (read_events(h) < 0) {
				teardown(h);
				break;
			}
		}
	}
	teardown(h);
	free(h->c);
	h->c = NULL;
	h->capc = 0;
	eakte_archive_free(h->ra);
	h->ra = NULL;
	return NULL;
}

/* ------------------------------------------------------------------ */

static hf *hf_start(const dconf_hotfolder *cfg, const char *archive, writer *w)
{
	hf *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->cfg = *cfg;
	snprintf(h->archive, sizeof(h->archive), "%s", archive);
	snprintf(h->actor, sizeof(h->actor), "hotfolder:%s", cfg->name);
	h->w = w;
	h->ifd = h->dfd = h->donefd = h->errfd = -1;
	atomic_init(&h->stop, 0);
	atomic_init(&h->rescan, 0);
	if ((h->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		free(h);
		return NULL;
	}
	if (pthread_create(&h->thread, NULL, run, h) != 0) {
		close(h->stopfd);
		free(h);
		return NULL;
	}
	return h;
}

static void hf_stop(hf *h)
{
	uint64_t one = 1;

	atomic_store(&h->stop, 1);
	if (write(h->stopfd, &one, sizeof(one)) != sizeof(one))
		fprintf(stderr, "eakted: hotfolder %s: cannot wake its thread: %s\n", h->cfg.name, strerror(errno));
	pthread_join(h->thread, NULL);
	close(h->stopfd);
	free(h);
}

int hotfolders_start(hotfolders **out, const dconf *c, const char *archive, writer *w)
{
	hotfolders *hs = calloc(1, sizeof(*hs));

	*out = NULL;
	if (hs == NULL)
		return -1;
	snprintf(hs->archive, sizeof(hs->archive), "%s", archive);
	hs->w = w;
	for (size_t i = 0; i < c->nhotfolders; i++) {
		hf *h = hf_start(&c->hotfolders[i], archive, w);
		if (h == NULL) {
			fprintf(stderr, "eakted: cannot start hotfolder %s: %s\n", c->hotfolders[i].name, strerror(errno));
			hotfolders_stop(hs);
			return -1;
		}
		h->next = hs->list;
		hs->list = h;
	}
	*out = hs;
	return 0;
}

void hotfolders_reload(hotfolders *hs, const dconf *c)
{
	hf **pp = &hs->list;
	size_t started = 0, stopped = 0;

	while (*pp) {
		hf *h = *pp;
		size_t i;
		for (i = 0; i < c->nhotfolders; i++)
			if (memcmp(&c->hotfolders[i], &h->cfg, sizeof(h->cfg)) == 0)
				break;
		if (i == c->nhotfolders) {
			*pp = h->next;
			hf_stop(h);
			stopped++;
		} else {
			uint64_t one = 1;
			atomic_store(&h->rescan, 1);
			if (write(h->stopfd, &one, sizeof(one)) != sizeof(one))
				fprintf(stderr, "eakted: hotfolder %s: cannot wake its thread: %s\n", h->cfg.name, strerror(errno));
			pp = &h->next;
		}
	}
	for (size_t i = 0; i < c->nhotfolders; i++) {
		hf *h;
		for (h = hs->list; h; h = h->next)
			if (memcmp(&c->hotfolders[i], &h->cfg, sizeof(h->cfg)) == 0)
				break;
		if (h != NULL)
			continue;
		if ((h = hf_start(&c->hotfolders[i], hs->archive, hs->w)) == NULL) {
			fprintf(stderr, "eakted: cannot start hotfolder %s: %s\n", c->hotfolders[i].name, strerror(errno));
			continue;
		}
		h->next = hs->list;
		hs->list = h;
		started++;
	}
	fprintf(stderr, "eakted: hotfolders: %zu stopped, %zu started, %zu in all\n", stopped, started, c->nhotfolders);
}

void hotfolders_stop(hotfolders *hs)
{
	if (hs == NULL)
		return;
	while (hs->list) {
		hf *h = hs->list;
		hs->list = h->next;
		hf_stop(h);
	}
	free(hs);
}
