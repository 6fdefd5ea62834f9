/* cmd_verify.c - eakte verify [--quick] [--since CHECKPOINT_FILE] [--json] */
#include "source.h"

#include <getopt.h>
#include <jansson.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char help[] =
	"usage: eakte verify [--quick] [--since CHECKPOINT_FILE] [--json]\n"
	"\n"
	"Verify the archive without trusting anything but the genesis key: every\n"
	"event's canonical bytes, seq and prev, every commit's SSH signature, the\n"
	"Merkle root against the signed checkpoint, the checkpoint's signature, that\n"
	"every filed document is present, and the SHA-256 of every content object.\n"
	"Exit 0 only if every check passes; otherwise exit 1 naming the first bad\n"
	"event or object and what was expected.\n"
	"\n"
	"  --quick        skip re-hashing content objects\n"
	"  --since FILE   also prove (RFC 9162 consistency proof) that the journal\n"
	"                 extends an older checkpoint saved in FILE: catches a\n"
	"                 truncated or rewritten history\n"
	"  --json         the report as one JSON object (schema/verify-v1.schema.json)\n"
	"Progress goes to standard error on long runs.\n";

typedef struct {
	struct timespec start, last;
	int shown;
	int tty;
} progress_state;

static void on_progress(const char *phase, uint64_t done, uint64_t total, void *payload)
{
	progress_state *p = payload;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	long since_last = (now.tv_sec - p->last.tv_sec) * 1000 + (now.tv_nsec - p->last.tv_nsec) / 1000000;

	/* Quiet for the first second; then on a terminal an updating line at
	 * most twice a second, in a log a line every ten seconds. */
	if (now.tv_sec - p->start.tv_sec < 1 && done < total)
		return;
	if (done < total && since_last < (p->tty ? 500 : 10000))
		return;
	if (done == total && !p->shown)
		return;
	p->last = now;
	p->shown = 1;
	if (p->tty)
		fprintf(stderr, "\reakte verify: %s %" PRIu64 "/%" PRIu64 "%s", phase, done, total, done == total ? "\n" : "");
	else if (done < total)
		fprintf(stderr, "eakte verify: %s %" PRIu64 "/%" PRIu64 "\n", phase, done, total);
}

int cmd_verify(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	eakte_verify_options vo = EAKTE_VERIFY_OPTIONS_INIT;
	cli_src a = { NULL, NULL };
	char *rj = NULL;
	json_t *r = NULL;
	progress_state ps;
	const char *since = NULL;
	char *since_text = NULL;
	size_t since_len = 0;
	int c, rc, ex, json = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'q': vo.quick = 1; break;
		case 's': since = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return cli_usage("verify", "bad option");
		}
	}
	if (optind != argc)
		return cli_usage("verify", "unexpected argument '%s'", argv[optind]);
	if (since != NULL) {
		if ((ex = cli_read_file(&since_text, &since_len, since, 1u << 20, "verify")) != 0)
			return ex;
		vo.since = since_text;
		vo.since_len = since_len;
	}
	memset(&ps, 0, sizeof(ps));
	clock_gettime(CLOCK_MONOTONIC, &ps.start);
	ps.last = ps.start;
	ps.tty = isatty(STDERR_FILENO);
	vo.progress = on_progress;
	vo.payload = &ps;
	if ((ex = src_open(&a, ctx, "verify", EAKTE_OPEN_READ)) != 0) {
		free(since_text);
		return ex;
	}
	if ((rc = src_verify(&a, &vo, &rj)) < 0) {
		ex = cli_fail("verify", rc);
		goto out;
	}
	if ((r = json_loads(rj, 0, NULL)) == NULL) {
		ex = EXIT_IO;
		goto out;
	}
	int ok = json_is_true(json_object_get(r, "ok"));
	if (json)
		printf("%s\n", rj);
	else if (ok)
		printf("OK: %lld events, %lld objects (%lld bytes) verified%s\n",
			(long long)json_integer_value(json_object_get(r, "events")),
			(long long)json_integer_value(json_object_get(r, "objects")),
			(long long)json_integer_value(json_object_get(r, "bytes")),
			vo.quick ? " (quick: content not re-hashed)" : "");
	if (!ok)
		fprintf(stderr, "eakte verify: FAILED: %s\n",
			json_string_value(json_object_get(json_object_get(r, "failure"), "message")));
	ex = ok ? EXIT_OK : EXIT_VERIFY;
	if (fflush(stdout) != 0)
		ex = EXIT_IO;
out:
	json_decref(r);
	eakte_free(rj);
	src_close(&a);
	free(since_text);
	return ex;
}
