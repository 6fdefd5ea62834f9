/* cmd_export.c - eakte export AZ -o FILE [--format tar|zip | --xdomea [--recipient NAME]] */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
	"usage: eakte export AZ -o FILE [--format tar|zip] [--json]\n"
	"       eakte export AZ --xdomea -o FILE.zip [--recipient NAME] [--json]\n"
	"\n"
	"Write the export package of Akte AZ to FILE: a BagIt 1.0 bag (RFC 8493) in a\n"
	"tar or zip file with every version of its documents, the metadata objects,\n"
	"the journal events that concern it, an RFC 9162 inclusion proof of each\n"
	"against one signed checkpoint, the checkpoint and the public key (layout in\n"
	"docs/format.md).  `eakte verify-package FILE` checks it anywhere, offline.\n"
	"FILE appears only when complete (it is never replaced if it exists); the\n"
	"export is then journaled as an `export` event with the package's SHA-256.\n"
	"\n"
	"  -o, --output FILE   the package file (required)\n"
	"  --format tar|zip    default: zip if FILE ends in .zip, else tar\n"
	"  --xdomea            a zip that is also the xdomea 3.0.0 Aussonderung message\n"
	"                      0503 for the public archive: the message\n"
	"                      <uuid>_Aussonderung.Aussonderung.0503.xml and the primary\n"
	"                      files at the top level, the bag with the proofs beside them\n"
	"  --recipient NAME    with --xdomea: the public archive (Kopf/Empfaenger)\n"
	"  --json              print the result as JSON\n";

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

int cmd_export(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "xdomea", no_argument, NULL, 'x' },
		{ "recipient", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	eakte_export_options eo = EAKTE_EXPORT_OPTIONS_INIT;
	eakte_export_result res;
	const char *output = NULL, *format = NULL;
	cli_src s = { NULL, NULL };
	int c, rc, ex, json = 0, xdomea = 0;

	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case 'f': format = optarg; break;
		case 'j': json = 1; break;
		case 'x': xdomea = 1; break;
		case 'r': eo.recipient = optarg; break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return cli_usage("export", "bad option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage("export", "give exactly one Aktenzeichen");
	if (output == NULL)
		return cli_usage("export", "give the package file with -o FILE");
	if (xdomea && format != NULL)
		return cli_usage("export", "--xdomea writes a zip; leave out --format");
	if (eo.recipient != NULL && !xdomea)
		return cli_usage("export", "--recipient goes with --xdomea");
	if (xdomea)
		eo.format = EAKTE_PACKAGE_XDOMEA;
	else if (format == NULL)
		eo.format = ends_with(output, ".zip") ? EAKTE_PACKAGE_ZIP : EAKTE_PACKAGE_TAR;
	else if (strcmp(format, "tar") == 0)
		eo.format = EAKTE_PACKAGE_TAR;
	else if (strcmp(format, "zip") == 0)
		eo.format = EAKTE_PACKAGE_ZIP;
	else
		return cli_usage("export", "--format is tar or zip");
	eo.akte = argv[optind];
	if ((ex = src_open(&s, ctx, "export", EAKTE_OPEN_WRITE)) != 0)
		return ex;
	rc = src_export(&s, &eo, output, &res);
	if (rc < 0) {
		ex = cli_fail("export", rc);
		goto out;
	}
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "akte", eo.akte, "file", output,
			"format", eo.format == EAKTE_PACKAGE_XDOMEA ? "xdomea" : eo.format == EAKTE_PACKAGE_ZIP ? "bagit-zip" : "bagit-tar",
			"sha256", res.sha256,
			"size", (json_int_t)res.size, "checkpoint", (json_int_t)res.checkpoint, "events", (json_int_t)res.events,
			"documents", (json_int_t)res.documents, "seq", (json_int_t)res.seq);
		if (o == NULL || json_dumpf(o, stdout, JSON_COMPACT) < 0) {
			json_decref(o);
			ex = cli_oom("export", "the result");
			goto out;
		}
		json_decref(o);
		putchar('\n');
	}
	else
		printf("exported %s to %s: %" PRIu64 " events, %" PRIu64 " document versions, checkpoint %" PRIu64
			"\nSHA-256 %s, %" PRIu64 " bytes; journaled as event %" PRIu64 "\n",
			eo.akte, output, res.events, res.documents, res.checkpoint, res.sha256, res.size, res.seq);
	if (src_warning(&s)[0] != '\0')
		fprintf(stderr, "eakte export: warning: %s\n", src_warning(&s));
	ex = fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
out:
	src_close(&s);
	return ex;
}
