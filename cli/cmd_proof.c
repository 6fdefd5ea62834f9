/* cmd_proof.c - eakte proof DOC | eakte proof --seq N */
#include "cli.h"

#include <getopt.h>
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
	eakte_archive *a = NULL;
	eakte_doc *d = NULL;
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
	if ((ex = cli_open(&a, ctx, "proof", EAKTE_OPEN_READ)) != 0)
		return ex;
	if (!have_seq) {
		if ((rc = eakte_doc_lookup(&d, a, argv[optind])) < 0) {
			ex = cli_fail("proof", rc);
			goto out;
		}
		seq = eakte_doc_seq(d);
	}
	if ((rc = eakte_proof_inclusion(&text, a, seq)) < 0) {
		ex = cli_fail("proof", rc);
		goto out;
	}
	fputs(text, stdout);
	ex = fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
out:
	eakte_free(text);
	eakte_doc_free(d);
	eakte_archive_free(a);
	return ex;
}
