/* cmd_reindex.c - eakte reindex */
#include "source.h"

#include <getopt.h>

static const char help[] =
	"usage: eakte reindex\n"
	"\n"
	"Rebuild the index (index.sqlite: Aktenplan, Akten, documents, metadata and\n"
	"full text) from the journal alone, extracting all text again.  Searches give\n"
	"the same answers afterwards.  Needs the writer lock.\n";

int cmd_reindex(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cli_src a = { NULL, NULL };
	uint64_t events = 0;
	int c, rc, ex;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return cli_usage("reindex", "bad option");
		}
	}
	if (optind != argc)
		return cli_usage("reindex", "reindex takes no arguments");
	if ((ex = src_open(&a, ctx, "reindex", EAKTE_OPEN_WRITE)) != 0)
		return ex;
	if ((rc = src_reindex(&a, &events)) < 0)
		ex = cli_fail("reindex", rc);
	else
		printf("index rebuilt from %llu journal events\n", (unsigned long long)events);
	src_close(&a);
	return ex;
}
