/*
 * writer.h - eakted's single writer: one thread owns the archive opened
 * for writing and files the documents of all clients in group commits
 * (one fsync round for many requests).  A request is answered only after
 * its commit is durable.
 */
#ifndef EAKTED_WRITER_H
#define EAKTED_WRITER_H

#include <eakte/eakte.h>
#include <pthread.h>

typedef struct wjob {
	/* in: either documents to file (n, fds, opts; staged, if not NULL,
	 * holds their content written by writer_stage(), so that the writer
	 * does not read it) ... */
	size_t n;
	const int *fds;
	const eakte_file_options *opts;
	eakte_staged *const *staged;
	/* ... or another write, run alone on the writer's archive
	 * (Akte, metadata, Aktenplan, reindex): returns a libeakte code. */
	int (*call)(eakte_archive *archive, void *arg);
	void *arg;
	/* out: */
	char (*ids)[EAKTE_ID_LEN + 1];
	int rc;
	char error[1024];
	/* private: */
	int done;
	struct wjob *next;
} wjob;

typedef struct writer writer;

/* Start the writer thread on an archive opened for writing (it takes it),
 * and the text extractor beside it on read-only views of `path`. */
int writer_start(writer **out, eakte_archive *archive, const char *path, unsigned int batch_max,
	unsigned int batch_wait_ms);

/* Write the content of a document into the store on the calling thread
 * (any thread, any number at once), ahead of its job: the writer then only
 * commits.  Returns a libeakte code; the error text is eakte_error_last(). */
int writer_stage(writer *w, int fd, const char *label, eakte_staged **out);

/* Queue a job and wait until it is durable (rc 0) or refused. */
void writer_submit(writer *w, wjob *job);

/* A client connection opened (+1) or closed (-1).  The writer waits a
 * moment for more requests to join a group commit, but not once every
 * open connection has a request queued. */
void writer_clients(writer *w, int delta);

/* Finish the queued jobs, stop the threads, close the archive.  Returns 1
 * if text extraction did not stop in time: the caller must then end the
 * process with _exit() (the extractor still uses the writer). */
int writer_stop(writer *w);

/* Counters for STATUS=: requests and documents filed, commits. */
void writer_stats(writer *w, unsigned long long *docs, unsigned long long *commits);

#endif
