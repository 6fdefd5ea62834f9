/* cmd_meta.c - eakte meta set DOC KEY=VALUE... [--title T] */
#include "source.h"

#include <getopt.h>
#include <string.h>

static const char help[] =
	"usage: eakte meta set DOC [KEY=VALUE]... [--title T]\n"
	"\n"
	"Change the descriptive metadata of document DOC: each KEY=VALUE sets a key,\n"
	"KEY= removes it, --title replaces the title.  The change is one journal\n"
	"event; the content and the earlier metadata stay as they were (see\n"
	"`eakte show DOC --history`).\n";

int cmd_meta(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "title", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cli_src a = { NULL, NULL };
	const char *title = NULL;
	int c, rc, ex;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't': title = optarg; break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return cli_usage("meta", "bad option");
		}
	}
	if (optind >= argc || strcmp(argv[optind], "set") != 0)
		return cli_usage("meta", "give: set DOC KEY=VALUE...");
	if (optind + 2 > argc)
		return cli_usage("meta", "set needs a document id");
	if (optind + 2 == argc && title == NULL)
		return cli_usage("meta", "nothing to change: give KEY=VALUE or --title T");
	if ((ex = src_open(&a, ctx, "meta", EAKTE_OPEN_WRITE)) != 0)
		return ex;
	rc = src_meta_set(&a, argv[optind + 1], title, (const char *const *)argv + optind + 2,
		(size_t)(argc - optind - 2));
	if (rc < 0)
		ex = cli_fail("meta", rc);
	else if (src_warning(&a)[0])
		fprintf(stderr, "eakte meta: warning: %s\n", src_warning(&a));
	src_close(&a);
	return ex;
}
