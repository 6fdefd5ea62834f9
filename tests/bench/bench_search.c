/*
 * bench_search.c - time eakte_search() in-process.
 *
 *   bench_search ARCHIVE QUERIES [--runs R] [--limit N] [--sorts S,S...] [--tsv FILE]
 *
 * Opens ARCHIVE read-only once, runs one search first (opening the index,
 * loading the journal index: reported as "OPEN"), then for each sort order
 * (default: newest, relevance) runs every query of the file QUERIES (one
 * per line, docs/search.md syntax) R times (default 3) with --limit N
 * (default 20), timing each eakte_search() call with CLOCK_MONOTONIC, the
 * JSON result included.  Per run and sort it prints
 *   RESULT sort=S run=K n=... p50=... p90=... p99=... max=... mean=...   (ms)
 * --tsv writes every timing: run, sort, query number, ms, query, total.
 * Used by tests/bench/bench_search_corpus.py.
 */
#include <eakte/eakte.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* Nearest-rank percentile of sorted v. */
static double pct(const double *v, size_t n, double p)
{
	size_t k = (size_t)ceil(p / 100.0 * (double)n);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static long total_of(const char *json)
{
	const char *t = json ? strstr(json, "\"total\":") : NULL;

	return t ? strtol(t + 8, NULL, 10) : -1;
}

static int search(eakte_archive *a, const char *q, const char *sort, size_t limit, double *ms, long *total)
{
	eakte_search_options o = EAKTE_SEARCH_OPTIONS_INIT;
	char *out = NULL;
	double t;
	int rc;

	o.query = q;
	o.query_len = strlen(q);
	o.sort = sort;
	o.limit = limit;
	t = now_ms();
	rc = eakte_search(&out, a, &o);
	*ms = now_ms() - t;
	if (rc < 0) {
		fprintf(stderr, "bench_search: query \"%s\" (%s): %s\n", q, sort, eakte_error_last());
		return rc;
	}
	*total = total_of(out);
	eakte_free(out);
	return 0;
}

int main(int argc, char **argv)
{
	const char *archive = NULL, *qpath = NULL, *tsv_path = NULL;
	char *sorts_arg = strdup("newest,relevance"), *line = NULL, **queries = NULL, *sort, *save = NULL;
	size_t nq = 0, qcap = 0, cap = 0, limit = 20;
	int runs = 3, rc;
	eakte_archive *a = NULL;
	FILE *qf, *tsv = NULL;
	double t, *ms;
	long total;
	ssize_t n;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
			limit = (size_t)atol(argv[++i]);
		else if (strcmp(argv[i], "--sorts") == 0 && i + 1 < argc) {
			free(sorts_arg);
			sorts_arg = strdup(argv[++i]);
		} else if (strcmp(argv[i], "--tsv") == 0 && i + 1 < argc)
			tsv_path = argv[++i];
		else if (archive == NULL && argv[i][0] != '-')
			archive = argv[i];
		else if (qpath == NULL && argv[i][0] != '-')
			qpath = argv[i];
		else {
			fprintf(stderr, "usage: bench_search ARCHIVE QUERIES [--runs R] [--limit N] [--sorts S,S] [--tsv FILE]\n");
			return 2;
		}
	}
	if (archive == NULL || qpath == NULL || runs < 1) {
		fprintf(stderr, "usage: bench_search ARCHIVE QUERIES [--runs R] [--limit N] [--sorts S,S] [--tsv FILE]\n");
		return 2;
	}
	if ((qf = fopen(qpath, "r")) == NULL) {
		perror(qpath);
		return 1;
	}
	while ((n = getline(&line, &cap, qf)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (nq == qcap) {
			qcap = qcap ? qcap * 2 : 1024;
			queries = realloc(queries, qcap * sizeof(*queries));
		}
		queries[nq++] = strdup(line);
	}
	fclose(qf);
	free(line);
	if (nq == 0) {
		fprintf(stderr, "bench_search: no queries in %s\n", qpath);
		return 1;
	}
	if (tsv_path != NULL) {
		if ((tsv = fopen(tsv_path, "w")) == NULL) {
			perror(tsv_path);
			return 1;
		}
		fprintf(tsv, "run\tsort\tquery_no\tms\tquery\ttotal\n");
	}
	ms = calloc(nq, sizeof(*ms));

	t = now_ms();
	if ((rc = eakte_archive_open(&a, archive, EAKTE_OPEN_READ)) < 0) {
		fprintf(stderr, "bench_search: %s: %s\n", archive, eakte_error_last());
		return 1;
	}
	printf("OPEN archive_open_ms=%.3f\n", now_ms() - t);
	{
		double first;
		if (search(a, queries[0], "newest", limit, &first, &total) < 0)
			return 1;
		printf("OPEN first_search_ms=%.3f\n", first);
	}
	if (eakte_archive_warning(a)[0] != '\0')
		printf("warning: %s\n", eakte_archive_warning(a));

	for (sort = strtok_r(sorts_arg, ",", &save); sort != NULL; sort = strtok_r(NULL, ",", &save)) {
		for (int r = 1; r <= runs; r++) {
			double sum = 0;
			for (size_t i = 0; i < nq; i++) {
				if (search(a, queries[i], sort, limit, &ms[i], &total) < 0)
					return 1;
				sum += ms[i];
				if (tsv)
					fprintf(tsv, "%d\t%s\t%zu\t%.4f\t%s\t%ld\n", r, sort, i, ms[i], queries[i], total);
			}
			qsort(ms, nq, sizeof(*ms), cmp_double);
			printf("RESULT sort=%s run=%d n=%zu p50=%.4f p90=%.4f p99=%.4f max=%.4f mean=%.4f\n", sort, r, nq,
				pct(ms, nq, 50), pct(ms, nq, 90), pct(ms, nq, 99), ms[nq - 1], sum / (double)nq);
			fflush(stdout);
		}
	}
	if (tsv)
		fclose(tsv);
	eakte_archive_free(a);
	for (size_t i = 0; i < nq; i++)
		free(queries[i]);
	free(queries);
	free(ms);
	free(sorts_arg);
	return 0;
}
