/* cmd_show.c - eakte show DOC [--json] */
#include "cli.h"

#include <getopt.h>
#include <inttypes.h>

static const char help[] =
	"usage: eakte show DOC [--json]\n"
	"\n"
	"Show the record of document DOC: Akte, title, type, size, SHA-256, the\n"
	"filing event and the metadata.  The metadata is checked against the hash\n"
	"in the signed event before it is shown.\n"
	"\n"
	"  --json  one JSON object (schema/doc-v1.schema.json)\n";

int cmd_show(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	eakte_archive *a = NULL;
	eakte_doc *d = NULL;
	int c, rc, json = 0, ex;
	size_t i;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return cli_usage("show", "bad option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage("show", "give exactly one document id");
	if ((ex = cli_open(&a, ctx, "show", EAKTE_OPEN_READ)) != 0)
		return ex;
	if ((rc = eakte_doc_lookup(&d, a, argv[optind])) < 0) {
		ex = cli_fail("show", rc);
		goto out;
	}
	if (json) {
		char *s;
		if ((rc = eakte_doc_to_json(&s, d)) < 0) {
			ex = cli_fail("show", rc);
			goto out;
		}
		printf("%s\n", s);
		eakte_free(s);
	} else {
		printf("Document   %s\n", eakte_doc_id(d));
		printf("Akte       %s\n", eakte_doc_akte(d));
		printf("Title      %s\n", eakte_doc_title(d));
		printf("File name  %s\n", eakte_doc_filename(d));
		printf("Version    %u\n", eakte_doc_version(d));
		printf("Type       %s\n", eakte_doc_mime(d));
		printf("Size       %" PRIu64 " bytes\n", eakte_doc_size(d));
		printf("SHA-256    %s\n", eakte_doc_sha256(d));
		printf("Filed      %s by %s (event %" PRIu64 ")\n", eakte_doc_filed_at(d), eakte_doc_actor(d), eakte_doc_seq(d));
		for (i = 0; i < eakte_doc_meta_count(d); i++) {
			const char *k, *v;
			eakte_doc_meta(d, i, &k, &v);
			printf("%-10s %s=%s\n", i == 0 ? "Metadata" : "", k, v);
		}
	}
	ex = fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
out:
	eakte_doc_free(d);
	eakte_archive_free(a);
	return ex;
}
