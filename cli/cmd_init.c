/* cmd_init.c - eakte init DIR [--origin NAME] */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>

static const char help[] =
	"usage: eakte init DIR [--origin NAME]\n"
	"\n"
	"Create a new archive in DIR (created if missing; must be empty): store.git,\n"
	"keys/ with a new Ed25519 signing key (mode 0600), the genesis event and the\n"
	"first signed checkpoint.\n"
	"\n"
	"  --origin NAME  checkpoint origin, the archive's public name, e.g.\n"
	"                 musterstadt.de/eakte (default: eakte/<host>-<random>)\n";

int cmd_init(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "origin", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	eakte_init_options io = EAKTE_INIT_OPTIONS_INIT;
	eakte_archive *a = NULL;
	const char *dir;
	char *vkey = NULL;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': io.origin = optarg; break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return cli_usage("init", "bad option");
		}
	}
	if (optind + 1 == argc)
		dir = argv[optind];
	else if (optind == argc && ctx->archive != NULL)
		dir = ctx->archive;
	else
		return cli_usage("init", "give exactly one directory");
	if ((rc = eakte_archive_init(dir, &io)) < 0)
		return cli_fail("init", rc);
	if ((rc = eakte_archive_open(&a, dir, EAKTE_OPEN_READ)) < 0 ||
	    (rc = eakte_archive_verifier_key(&vkey, a)) < 0) {
		eakte_archive_free(a);
		return cli_fail("init", rc);
	}
	printf("Initialised archive in %s\norigin: %s\nverifier key: %s\n", dir, eakte_archive_origin(a), vkey);
	eakte_free(vkey);
	eakte_archive_free(a);
	return EXIT_OK;
}
