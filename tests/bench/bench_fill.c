/*
 * bench_fill.c - file a generated corpus into an archive through libeakte,
 * with per-document title and metadata (the CLI's --meta applies to all
 * files of a call).  Used by tests/bench/bench_search_corpus.py.
 *
 *   bench_fill ARCHIVE AKTENPLAN.csv < protocol
 *
 * The archive must exist (eakte init).  The Aktenplan file is imported
 * first.  Protocol on standard input, one record per line:
 *   A<TAB>PLAN<TAB>AZ<TAB>TITLE     create Akte AZ under PLAN (between batches)
 *   D<TAB>AZ<TAB>TITLE<TAB>FILENAME<TAB>ABSENDER<TAB>DATE<TAB>ART<TAB>LEN
 *                                  followed by LEN bytes of content
 *   C                              commit the batch, then extract its text
 * Each document's content goes to a memfd given to eakte_batch_add_fd(),
 * so no files are written besides the archive.  Progress goes to stdout.
 */
#include <eakte/eakte.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_fill: %s: %s (%s)\n", what, eakte_error_last(), eakte_error_name(rc));
	exit(1);
}

/* Split line at tabs into at most max fields; returns the count. */
static int split(char *line, char **f, int max)
{
	int n = 0;

	f[n++] = line;
	for (char *p = line; *p && n < max; p++) {
		if (*p == '\t') {
			*p = '\0';
			f[n++] = p + 1;
		}
	}
	return n;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	eakte_archive *a = NULL;
	eakte_batch *b = NULL;
	char *line = NULL, *body = NULL, *plan = NULL, id[EAKTE_ID_LEN + 1];
	size_t cap = 0, bodycap = 0, docs = 0, akten = 0, plan_count = 0;
	double t0, t_commit = 0, t_extract = 0, t_add = 0, t_batch;
	ssize_t n;
	FILE *pf;
	long plan_len;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: bench_fill ARCHIVE AKTENPLAN.csv < protocol\n");
		return 2;
	}
	if ((rc = eakte_archive_open(&a, argv[1], EAKTE_OPEN_WRITE)) < 0)
		die("opening the archive", rc);
	pf = fopen(argv[2], "rb");
	if (pf == NULL || fseek(pf, 0, SEEK_END) != 0 || (plan_len = ftell(pf)) < 0 || fseek(pf, 0, SEEK_SET) != 0 ||
	    (plan = malloc((size_t)plan_len + 1)) == NULL || fread(plan, 1, (size_t)plan_len, pf) != (size_t)plan_len) {
		fprintf(stderr, "bench_fill: cannot read %s\n", argv[2]);
		return 1;
	}
	fclose(pf);
	if ((rc = eakte_plan_import(a, plan, (size_t)plan_len, argv[2], "bench", &plan_count)) < 0)
		die("importing the Aktenplan", rc);
	free(plan);

	t0 = t_batch = now();
	while ((n = getline(&line, &cap, stdin)) > 0) {
		char *f[9];
		int nf;

		if (line[n - 1] == '\n')
			line[--n] = '\0';
		nf = split(line, f, 9);
		if (strcmp(f[0], "A") == 0 && nf == 4) {
			eakte_akte_options ao = EAKTE_AKTE_OPTIONS_INIT;
			char *az = NULL;
			if (b != NULL) {
				fprintf(stderr, "bench_fill: an Akte can only be created between batches\n");
				return 1;
			}
			ao.plan = f[1];
			ao.az = f[2];
			ao.title = f[3];
			ao.actor = "bench";
			if ((rc = eakte_akte_create(a, &ao, &az)) < 0)
				die("creating an Akte", rc);
			eakte_free(az);
			akten++;
		} else if (strcmp(f[0], "D") == 0 && nf == 8) {
			eakte_file_options fo = EAKTE_FILE_OPTIONS_INIT;
			char m_abs[1024], m_date[64], m_art[256];
			const char *meta[3] = { m_abs, m_date, m_art };
			size_t len = strtoul(f[7], NULL, 10);
			double t;
			int fd;

			if (len + 1 > bodycap) {
				bodycap = len + 4096;
				if ((body = realloc(body, bodycap)) == NULL) {
					fprintf(stderr, "bench_fill: out of memory\n");
					return 1;
				}
			}
			if (fread(body, 1, len, stdin) != len) {
				fprintf(stderr, "bench_fill: short document on standard input\n");
				return 1;
			}
			snprintf(m_abs, sizeof(m_abs), "absender=%s", f[4]);
			snprintf(m_date, sizeof(m_date), "date=%s", f[5]);
			snprintf(m_art, sizeof(m_art), "art=%s", f[6]);
			fo.akte = f[1];
			fo.title = f[2];
			fo.filename = f[3];
			fo.meta = meta;
			fo.meta_count = 3;
			fo.actor = "bench";
			if (b == NULL && (rc = eakte_batch_new(&b, a)) < 0)
				die("starting a batch", rc);
			t = now();
			fd = memfd_create("doc", MFD_CLOEXEC);
			if (fd < 0 || write_all(fd, body, len) < 0 || lseek(fd, 0, SEEK_SET) != 0) {
				perror("bench_fill: memfd");
				return 1;
			}
			if ((rc = eakte_batch_add_fd(b, fd, &fo, id)) < 0)
				die("adding a document", rc);
			close(fd);   /* the batch keeps its own descriptor */
			t_add += now() - t;
		} else if (strcmp(f[0], "C") == 0 && nf == 1) {
			double t = now(), t2;
			size_t count = b ? eakte_batch_count(b) : 0;
			if (b != NULL) {
				if ((rc = eakte_batch_commit(b)) < 0)
					die("committing a batch", rc);
				eakte_batch_free(b);
				b = NULL;
			}
			t2 = now();
			t_commit += t2 - t;
			if ((rc = eakte_extract_pending(a, 0)) < 0)
				die("extracting text", rc);
			t_extract += now() - t2;
			docs += count;
			printf("filed %zu documents (%zu Akten) in %.1f s: this batch %.0f docs/s "
			       "(add+commit %.2f s, extract %.2f s); totals add %.1f s, commit %.1f s, extract %.1f s\n",
				docs, akten, now() - t0, (double)count / (now() - t_batch), t2 - t_batch, now() - t2,
				t_add, t_commit, t_extract);
			fflush(stdout);
			t_batch = now();
		} else {
			fprintf(stderr, "bench_fill: bad record \"%.60s\"\n", f[0]);
			return 1;
		}
	}
	if (b != NULL) {
		fprintf(stderr, "bench_fill: input ended inside a batch (no C record)\n");
		return 1;
	}
	printf("FILL docs=%zu akten=%zu seconds=%.2f add=%.2f commit=%.2f extract=%.2f\n", docs, akten, now() - t0,
		t_add, t_commit, t_extract);
	free(line);
	free(body);
	eakte_archive_free(a);
	return 0;
}
