/* cmd_checkpoint.c - eakte checkpoint [--key] */
#include "source.h"

#include <getopt.h>

static const char help[] =
	"usage: eakte checkpoint [--key]\n"
	"\n"
	"Print the latest signed checkpoint: a C2SP tlog-checkpoint (origin, tree\n"
	"size, Merkle root) signed as a C2SP signed note with the archive's Ed25519\n"
	"key.  Keep copies outside this machine: `eakte verify --since FILE` proves\n"
	"that the journal still extends it.\n"
	"\n"
	"  --key  print the verifier key (name+id+key) instead\n";

int cmd_checkpoint(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cli_src a = { NULL, NULL };
	char *text = NULL;
	int c, rc, ex, key = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': key = 1; break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return cli_usage("checkpoint", "bad option");
		}
	}
	if (optind != argc)
		return cli_usage("checkpoint", "unexpected argument '%s'", argv[optind]);
	if ((ex = src_open(&a, ctx, "checkpoint", EAKTE_OPEN_READ)) != 0)
		return ex;
	rc = key ? src_read(&a, "verifier-key", NULL, 0, &text) : src_read(&a, "checkpoint", NULL, 0, &text);
	if (rc < 0) {
		ex = cli_fail("checkpoint", rc);
	} else {
		fputs(text, stdout);
		if (key)
			fputs("\n", stdout);
		ex = fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
	}
	eakte_free(text);
	src_close(&a);
	return ex;
}
