/*
 * writer.c - group commit; see writer.h.
 */
#include "writer.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct writer {
	eakte_archive *a;
	/* Held for reading by writer_stage() (connection threads use the
	 * handle's object store), for writing while the handle is replaced. */
	pthread_rwlock_t handle;
	unsigned int batch_max, batch_wait_ms;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work;     /* a job was queued, or stop */
	pthread_cond_t done;     /* a job finished */
	wjob *head, *tail;
	size_t queued_docs, queued_jobs;
	size_t clients;          /* connections open (writer_clients) */
	int stopping;
	unsigned long long docs, commits;
	/* Text extraction runs in its own thread on its own read-only view,
	 * so that a slow PDF never holds up a commit or a read. */
	char *path;
	char last_warning[1024];
	char open_error[1024];
	pthread_t extract_thread;
	pthread_cond_t extract_cv;
	int extract_wanted;
	/* When the writer last had work (CLOCK_MONOTONIC, ms), 0 while it
	 * has; extraction yields to filing (extract_yield()). */
	int64_t writer_idle_since;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Text extraction waits while documents are being filed, until the
 * writer has been idle for EXTRACT_IDLE_MS - but never more than
 * EXTRACT_YIELD_MAX_MS at a time, so that under steady load the search
 * index still follows, a chunk at a time.  Why: even at SCHED_IDLE, its
 * index writes land in the same file system journal as the commits'
 * flushes and its pdftotext processes cost the kernel work; measured with
 * 8 clients filing, it took a fifth to a quarter of the throughput. */
#define EXTRACT_IDLE_MS 20
#define EXTRACT_YIELD_MAX_MS 1000
#define EXTRACT_CHUNK 8

/* With w->mu held; returns with it held. */
static void extract_yield(writer *w)
{
	int64_t start = mono_ms();

	for (;;) {
		int64_t now = mono_ms(), idle_at, until_ms;
		struct timespec until;

		if (w->stopping || now - start >= EXTRACT_YIELD_MAX_MS)
			return;
		if (w->head == NULL && w->writer_idle_since > 0) {
			idle_at = w->writer_idle_since + EXTRACT_IDLE_MS;
			if (now >= idle_at)
				return;
		} else {
			idle_at = now + EXTRACT_IDLE_MS;   /* busy: look again then */
		}
		until_ms = idle_at < start + EXTRACT_YIELD_MAX_MS ? idle_at : start + EXTRACT_YIELD_MAX_MS;
		/* extract_cv is a CLOCK_REALTIME condition: wait the difference. */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)(until_ms - now) * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&w->extract_cv, &w->mu, &until);
	}
}

static void fail_job(wjob *j, int rc)
{
	j->rc = rc;
	snprintf(j->error, sizeof(j->error), "%s", eakte_error_last()[0] ? eakte_error_last() : eakte_error_name(rc));
}

/*
 * File the documents of jobs[0..n) in one batch.  Returns 0 when all are
 * durable.  Otherwise normally nothing of them was filed and the first
 * failure is recorded in its job (the others keep rc 0 for a retry on
 * their own); but when the commit failed after its commit point, all of
 * them are in the journal, *filed is set and every job carries the error
 * (which says so): they must not be filed again.
 */
static int file_together(writer *w, wjob **jobs, size_t n, int *filed)
{
	eakte_batch *b = NULL;
	int rc;

	*filed = 0;
	if ((rc = eakte_batch_new(&b, w->a)) < 0) {
		fail_job(jobs[0], rc);
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < jobs[i]->n; k++) {
			/* From the start: a retry after a failed group reads again. */
			int staged = jobs[i]->staged != NULL && jobs[i]->staged[k] != NULL;
			if (!staged && lseek(jobs[i]->fds[k], 0, SEEK_SET) < 0 && errno != ESPIPE) {
				rc = EAKTE_EIO;
				snprintf(jobs[i]->error, sizeof(jobs[i]->error),
					"cannot read document %zu from its descriptor: %s", k + 1, strerror(errno));
				jobs[i]->rc = rc;
				eakte_batch_free(b);
				return rc;
			}
			if (staged)
				rc = eakte_batch_add_staged(b, jobs[i]->staged[k], &jobs[i]->opts[k], jobs[i]->ids[k]);
			else
				rc = eakte_batch_add_fd(b, jobs[i]->fds[k], &jobs[i]->opts[k], jobs[i]->ids[k]);
			if (rc < 0) {
				/* As the CLI says it in embedded mode. */
				jobs[i]->rc = rc;
				snprintf(jobs[i]->error, sizeof(jobs[i]->error), "%s; nothing was filed", eakte_error_last());
				eakte_batch_free(b);
				return rc;
			}
		}
	if ((rc = eakte_batch_commit(b)) < 0) {
		if (eakte_batch_filed(b)) {
			*filed = 1;
			for (size_t i = 0; i < n; i++)
				fail_job(jobs[i], rc);
			w->commits++;
		} else {
			fail_job(jobs[0], rc);   /* for a group: the reason, for the log */
		}
		eakte_batch_free(b);
		return rc;
	}
	eakte_batch_free(b);
	w->commits++;
	for (size_t i = 0; i < n; i++)
		w->docs += jobs[i]->n;
	return 0;
}

/*
 * After an I/O failure in a commit the writer's view of the archive may
 * not match the disk (a reference that moved or not): open it again, which
 * repairs what a failed commit left, as after a crash.  1 if usable.
 */
static int ensure_archive(writer *w, int reopen)
{
	eakte_archive *a = NULL;
	int rc;

	if (w->a != NULL && !reopen)
		return 1;
	pthread_rwlock_wrlock(&w->handle);
	eakte_archive_free(w->a);
	w->a = NULL;
	rc = eakte_archive_open(&a, w->path, EAKTE_OPEN_WRITE | EAKTE_OPEN_DEFER_TIDY);
	if (rc < 0) {
		pthread_mutex_lock(&w->mu);
		snprintf(w->open_error, sizeof(w->open_error), "the archive cannot be opened for writing: %s",
			eakte_error_last());
		pthread_mutex_unlock(&w->mu);
		fprintf(stderr, "eakted: %s; retrying with the next request\n", w->open_error);
	} else {
		w->a = a;
	}
	pthread_rwlock_unlock(&w->handle);
	if (rc < 0)
		return 0;
	fprintf(stderr, "eakted: reopened the archive after a failed commit\n");
	return 1;
}

static int needs_reopen(int rc)
{
	return rc == EAKTE_EIO || rc == EAKTE_ELOCKED || rc == EAKTE_ECORRUPT || rc == EAKTE_ENOMEM;
}

static void process(writer *w, wjob **jobs, size_t n)
{
	if (!ensure_archive(w, 0)) {
		for (size_t i = 0; i < n; i++) {
			jobs[i]->rc = EAKTE_EIO;
			snprintf(jobs[i]->error, sizeof(jobs[i]->error), "%s", w->open_error);
		}
		return;
	}
	if (n == 1 && jobs[0]->call != NULL) {
		int rc = jobs[0]->call(w->a, jobs[0]->arg);
		if (rc < 0) {
			fail_job(jobs[0], rc);
			if (needs_reopen(rc))
				ensure_archive(w, 1);
		} else {
			w->commits++;
		}
		return;
	}
	/* One commit for everything; if any document is refused, each
	 * request on its own, so that one client's bad file does not fail
	 * the others (their documents are then written again, which costs
	 * a lookup: the objects exist). */
	if (n > 1) {
		int filed, rc = file_together(w, jobs, n, &filed);
		if (rc == 0)
			return;
		if (filed) {
			/* In the journal already: a retry would file them twice. */
			fprintf(stderr, "eakted: a group commit of %zu requests failed after its commit point (%s)\n",
				n, jobs[0]->error);
			if (needs_reopen(rc))
				ensure_archive(w, 1);
			return;
		}
		for (size_t i = 0; i < n; i++)
			if (jobs[i]->rc < 0) {
				fprintf(stderr, "eakted: a group commit of %zu requests failed (%s); committing them one by one\n",
					n, jobs[i]->error);
				break;
			}
		if (needs_reopen(rc) && !ensure_archive(w, 1)) {
			for (size_t i = 0; i < n; i++) {
				jobs[i]->rc = EAKTE_EIO;
				snprintf(jobs[i]->error, sizeof(jobs[i]->error), "%s", w->open_error);
			}
			return;
		}
	}
	for (size_t i = 0; i < n; i++) {
		int rc, filed;
		if (w->a == NULL && !ensure_archive(w, 0)) {
			jobs[i]->rc = EAKTE_EIO;
			snprintf(jobs[i]->error, sizeof(jobs[i]->error), "%s", w->open_error);
			continue;
		}
		jobs[i]->rc = 0;
		jobs[i]->error[0] = '\0';
		rc = file_together(w, &jobs[i], 1, &filed);
		if (rc < 0 && needs_reopen(rc))
			ensure_archive(w, 1);
	}
}

static void *extract_run(void *arg)
{
	writer *w = arg;

	/* Background work: filing and reads come first.  SCHED_IDLE runs this
	 * thread (and the pdftotext processes it starts, which inherit the
	 * policy) only on a CPU that nothing else wants: a nice value still
	 * takes its share of a busy CPU from the commits. */
	struct sched_param idle = { .sched_priority = 0 };
	int e = pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
	if (e != 0)
		fprintf(stderr, "eakted: cannot lower the priority of text extraction: %s\n", strerror(e));

	pthread_mutex_lock(&w->mu);
	while (!w->stopping) {
		eakte_archive *ra = NULL;
		char seen[512] = "";
		int n;

		if (!w->extract_wanted) {
			/* Also now and then on its own: documents whose extraction
			 * an earlier process left pending, or a transient failure. */
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 30;
			pthread_cond_timedwait(&w->extract_cv, &w->mu, &until);
			if (w->stopping)
				break;
		}
		w->extract_wanted = 0;
		pthread_mutex_unlock(&w->mu);
		/* A fresh view each round: it sees the commits made since. */
		if (eakte_archive_open(&ra, w->path, EAKTE_OPEN_READ | EAKTE_OPEN_NO_EXTRACT) < 0) {
			fprintf(stderr, "eakted: text extraction: %s\n", eakte_error_last());
		} else {
			do {
				pthread_mutex_lock(&w->mu);
				extract_yield(w);
				pthread_mutex_unlock(&w->mu);
				n = w->stopping ? 0 : eakte_extract_pending(ra, EXTRACT_CHUNK);
				if (eakte_archive_warning(ra)[0] && strcmp(eakte_archive_warning(ra), seen) != 0) {
					/* Once each: a storage error SQLite retried, for one. */
					snprintf(seen, sizeof(seen), "%s", eakte_archive_warning(ra));
					fprintf(stderr, "eakted: text extraction: warning: %s\n", seen);
				}
			} while (n > 0 && !w->stopping);
			if (n < 0)
				fprintf(stderr, "eakted: text extraction: %s\n", eakte_error_last());
			eakte_archive_free(ra);
		}
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Warnings of a successful commit or tidy (a pack merge or the index that
 * could not follow) go to the log, once each. */
static void log_warning(writer *w)
{
	const char *warn = w->a ? eakte_archive_warning(w->a) : "";

	if (warn[0] && strcmp(warn, w->last_warning) != 0) {
		fprintf(stderr, "eakted: warning: %s\n", warn);
		snprintf(w->last_warning, sizeof(w->last_warning), "%s", warn);
	}
}

static void *run(void *arg)
{
	writer *w = arg;
	wjob **jobs = NULL;
	size_t cap = 0;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		size_t n = 0, docs = 0;

		while (w->head == NULL && !w->stopping)
			pthread_cond_wait(&w->work, &w->mu);
		if (w->head == NULL && w->stopping)
			break;
		w->writer_idle_since = 0;
		if (w->batch_wait_ms > 0 && w->queued_docs < w->batch_max && w->head->call == NULL &&
		    w->queued_jobs < w->clients) {
			/* Give concurrent clients a moment to join this commit -
			 * but not those that cannot: when every connection already
			 * waits here, nobody else is coming. */
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += (long)w->batch_wait_ms * 1000000L;
			until.tv_sec += until.tv_nsec / 1000000000L;
			until.tv_nsec %= 1000000000L;
			while (w->queued_docs < w->batch_max && w->queued_jobs < w->clients && !w->stopping &&
			       pthread_cond_timedwait(&w->work, &w->mu, &until) != ETIMEDOUT)
				;
		}
		while (w->head != NULL && (n == 0 || (docs + w->head->n <= w->batch_max &&
		       w->head->call == NULL && jobs[0]->call == NULL))) {
			wjob *j = w->head;
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 64;
				wjob **nj = realloc(jobs, nc * sizeof(*nj));
				if (nj == NULL)
					break;
				jobs = nj;
				cap = nc;
			}
			w->head = j->next;
			if (w->head == NULL)
				w->tail = NULL;
			w->queued_docs -= j->n;
			w->queued_jobs--;
			docs += j->n;
			jobs[n++] = j;
		}
		pthread_mutex_unlock(&w->mu);
		if (n > 0) {
			process(w, jobs, n);
			log_warning(w);
		}
		pthread_mutex_lock(&w->mu);
		for (size_t i = 0; i < n; i++)
			jobs[i]->done = 1;
		pthread_cond_broadcast(&w->done);
		w->extract_wanted = 1;
		pthread_cond_signal(&w->extract_cv);
		if (n > 0 && w->a != NULL) {
			/* Acknowledged: merge packs and update the index now, while
			 * the clients prepare their next requests, rather than on
			 * the critical path of the next commit. */
			pthread_mutex_unlock(&w->mu);
			eakte_archive_tidy(w->a);
			log_warning(w);
			pthread_mutex_lock(&w->mu);
		}
		if (w->head == NULL) {
			w->writer_idle_since = mono_ms();
			pthread_cond_signal(&w->extract_cv);
		}
	}
	pthread_mutex_unlock(&w->mu);
	free(jobs);
	return NULL;
}

int writer_start(writer **out, eakte_archive *a, const char *path, unsigned int batch_max, unsigned int batch_wait_ms)
{
	writer *w = calloc(1, sizeof(*w));
	pthread_rwlockattr_t ra;

	*out = NULL;
	if (w == NULL)
		return -1;
	if ((w->path = strdup(path)) == NULL) {
		free(w);
		return -1;
	}
	pthread_rwlockattr_init(&ra);
	/* A reopen must not starve behind a stream of stagers. */
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	if (pthread_rwlock_init(&w->handle, &ra) != 0) {
		pthread_rwlockattr_destroy(&ra);
		free(w->path);
		free(w);
		return -1;
	}
	pthread_rwlockattr_destroy(&ra);
	w->a = a;
	w->batch_max = batch_max;
	w->batch_wait_ms = batch_wait_ms;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->done, NULL);
	pthread_cond_init(&w->extract_cv, NULL);
	w->extract_wanted = 1;   /* whatever an earlier run left pending */
	w->writer_idle_since = mono_ms();
	/* The index now, not with the first request: caught up, and its
	 * connection (and so SQLite's WAL file) open for as long as the
	 * writer runs, rather than created and removed as readers come and
	 * go.  Failures are warnings: the first commit tries again. */
	eakte_archive_tidy(a);
	log_warning(w);
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		pthread_rwlock_destroy(&w->handle);
		free(w->path);
		free(w);
		return -1;
	}
	if (pthread_create(&w->extract_thread, NULL, extract_run, w) != 0) {
		pthread_mutex_lock(&w->mu);
		w->stopping = 1;
		pthread_cond_signal(&w->work);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
		pthread_rwlock_destroy(&w->handle);
		free(w->path);
		free(w);
		return -1;
	}
	*out = w;
	return 0;
}

int writer_stage(writer *w, int fd, const char *label, eakte_staged **out)
{
	int rc;

	*out = NULL;
	pthread_rwlock_rdlock(&w->handle);
	if (w->a == NULL) {
		/* The writer failed to reopen the archive; it tries again with
		 * the next job, which then stages its content itself. */
		pthread_rwlock_unlock(&w->handle);
		return 0;
	}
	rc = eakte_stage_fd(out, w->a, fd, label);
	pthread_rwlock_unlock(&w->handle);
	return rc;
}

void writer_submit(writer *w, wjob *j)
{
	j->rc = 0;
	j->error[0] = '\0';
	j->done = 0;
	j->next = NULL;
	pthread_mutex_lock(&w->mu);
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	w->queued_docs += j->n;
	w->queued_jobs++;
	pthread_cond_signal(&w->work);
	while (!j->done)
		pthread_cond_wait(&w->done, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

void writer_clients(writer *w, int delta)
{
	pthread_mutex_lock(&w->mu);
	if (delta < 0 && w->clients < (size_t)-delta)
		w->clients = 0;
	else
		w->clients = (size_t)((long long)w->clients + delta);
	/* One fewer to wait for: the writer may go now. */
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
}

int writer_stop(writer *w)
{
	struct timespec until;

	if (w == NULL)
		return 0;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_signal(&w->work);
	pthread_cond_signal(&w->extract_cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_rwlock_wrlock(&w->handle);
	eakte_archive_free(w->a);
	w->a = NULL;
	pthread_rwlock_unlock(&w->handle);
	/* Text extraction is never worth a slow stop: what it has not stored
	 * stays pending in the index for the next start.  A PDF can take the
	 * extractor its whole timeout, so it gets two seconds. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	if (pthread_timedjoin_np(w->extract_thread, NULL, &until) != 0) {
		fprintf(stderr, "eakted: text extraction still running; leaving it pending for the next start\n");
		return 1;   /* the process exits with the thread still in it */
	}
	free(w->path);
	pthread_cond_destroy(&w->extract_cv);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->done);
	pthread_rwlock_destroy(&w->handle);
	free(w);
	return 0;
}

void writer_stats(writer *w, unsigned long long *docs, unsigned long long *commits)
{
	pthread_mutex_lock(&w->mu);
	*docs = w->docs;
	*commits = w->commits;
	pthread_mutex_unlock(&w->mu);
}
