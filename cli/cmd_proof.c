/* cmd_proof.c - eakte proof DOC | eakte proof --seq N */
#include "source.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>

static const char help[] =
	"usage: eakte proof DOC\n"
	"       eakte proof --seq N\n"
	"\n"
	"Print the RFC 9162 inclusion proof of the filing event of document DOC (or of\n"
	"event N) in the latest signed checkpoint, in the text form described in\n"
	"docs/verification.md.  `eakte verify-proof` checks it, needing only the\n"
	"archive's verifier key.\n";

int cmd_proof(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seq", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cli_src a = { NULL, NULL };
	char *text = NULL, *end;
	uint64_t seq = 0;
	int c, rc, ex, have_seq = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			seq = strtoull(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || optarg[0] == '-')
				return cli_usage("proof", "--seq needs a number");
			have_seq = 1;
			break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return cli_usage("proof", "bad option");
		}
	}
	if (have_seq == (optind + 1 == argc) || optind + 1 < argc)
		return cli_usage("proof", "give either a document id or --seq N");
	if ((ex = src_open(&a, ctx, "proof", EAKTE_OPEN_READ)) != 0)
		return ex;
	if (!have_seq) {
		char *dj = NULL;
		json_t *o;
		if ((rc = src_read(&a, "doc", argv[optind], 0, &dj)) < 0) {
			ex = cli_fail("proof", rc);
			goto out;
		}
		o = json_loads(dj, 0, NULL);
		eakte_free(dj);
		if (o == NULL) {
			ex = EXIT_IO;
			goto out;
		}
		seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
		json_decref(o);
	}
	if ((rc = src_read(&a, "proof", NULL, (int64_t)seq, &text)) < 0) {
		ex = cli_fail("proof", rc);
		goto out;
	}
	fputs(text, stdout);
	ex = fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
out:
	eakte_free(text);
	src_close(&a);
	return ex;
}
