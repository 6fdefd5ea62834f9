/* cmd_log.c - eakte log [--json] [--from SEQ] */
#include "source.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: eakte log [--json] [--from SEQ]\n"
	"\n"
	"List the journal, oldest event first: seq, time, actor, action, subject.\n"
	"\n"
	"  --json      one JSON object per line: {\"seq\",\"commit\",\"leaf\",\"event\"}\n"
	"              where event is the canonical event (schema/event-v1.schema.json)\n"
	"  --from SEQ  start at event SEQ\n";

static int print_event(const eakte_event *e, void *payload)
{
	int json = *(int *)payload;

	if (json)
		printf("{\"commit\":\"%s\",\"event\":%s,\"leaf\":\"%s\",\"seq\":%" PRIu64 "}\n",
			e->commit, e->json, e->leaf_hash, e->seq);
	else
		printf("%6" PRIu64 "  %s  %-24s %-14s %s\n", e->seq, e->time, e->actor, e->action, e->subject);
	return ferror(stdout) ? 1 : 0;
}

int cmd_log(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "from", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cli_src a = { NULL, NULL };
	uint64_t from = 0;
	char *end;
	int c, rc, json = 0, ex;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'f':
			from = strtoull(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || optarg[0] == '-')
				return cli_usage("log", "--from needs a number");
			break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return cli_usage("log", "bad option");
		}
	}
	if (optind != argc)
		return cli_usage("log", "unexpected argument '%s'", argv[optind]);
	if ((ex = src_open(&a, ctx, "log", EAKTE_OPEN_READ)) != 0)
		return ex;
	rc = src_log(&a, from, print_event, &json);
	if (rc > 0) {
		fprintf(stderr, "eakte log: cannot write to standard output\n");
		ex = EXIT_IO;
	} else if (rc < 0) {
		ex = cli_fail("log", rc);
	} else {
		ex = fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
	}
	src_close(&a);
	return ex;
}
