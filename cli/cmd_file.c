/* cmd_file.c - eakte file PATH... --akte AZ [--vorgang N] [--title T] [--meta KEY=VALUE]...
 *              eakte file --new-version-of DOC PATH */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: eakte file PATH... --akte AZ [--vorgang N] [--title T] [--meta KEY=VALUE]...\n"
	"       eakte file --new-version-of DOC PATH [--title T] [--meta KEY=VALUE]...\n"
	"\n"
	"File each PATH (a regular file) into the Akte AZ and print one document id\n"
	"per line, in the order given.  All files of one call are one group commit:\n"
	"either all are filed or, on any error, none.  The ids are printed only after\n"
	"the batch is durable.\n"
	"\n"
	"The Akte must exist (exit 3) and be open (exit 4); the detected type of each\n"
	"file must be allowed by the archive's format policy (exit 4).  After the ids\n"
	"are printed, the text of the documents is extracted for the search index.\n"
	"\n"
	"  --akte AZ         Aktenzeichen of the Akte (required for new documents)\n"
	"  --vorgang N       file into Vorgang N of the Akte\n"
	"  --new-version-of DOC  file PATH as the next version of document DOC; the old\n"
	"                    version stays unchanged; title and metadata carry over\n"
	"  --title T         title (default: the file name); with several files, each gets T\n"
	"  --meta KEY=VALUE  descriptive metadata, repeatable (KEY: A-Z a-z 0-9 _ - .)\n";

int cmd_file(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "akte", required_argument, NULL, 'a' },
		{ "title", required_argument, NULL, 't' },
		{ "meta", required_argument, NULL, 'm' },
		{ "vorgang", required_argument, NULL, 'v' },
		{ "new-version-of", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	eakte_file_options fo = EAKTE_FILE_OPTIONS_INIT;
	const char **meta = NULL;
	size_t nmeta = 0, i, npaths;
	char (*ids)[EAKTE_ID_LEN + 1] = NULL;
	eakte_archive *a = NULL;
	eakte_batch *b = NULL;
	int c, rc, ex = EXIT_OK;

	meta = calloc((size_t)argc + 1, sizeof(*meta));
	if (meta == NULL)
		return cli_usage("file", "out of memory");
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': fo.akte = optarg; break;
		case 't': fo.title = optarg; break;
		case 'm': meta[nmeta++] = optarg; break;
		case 'v': {
			char *end;
			long long v = strtoll(optarg, &end, 10);
			if (*end != '\0' || v < 1) {
				free(meta);
				return cli_usage("file", "--vorgang needs a number 1, 2, ...");
			}
			fo.vorgang = v;
			break;
		}
		case 'n': fo.new_version_of = optarg; break;
		case 'h': fputs(help, stdout); free(meta); return EXIT_OK;
		default: free(meta); return cli_usage("file", "bad option");
		}
	}
	fo.meta = meta;
	fo.meta_count = nmeta;
	if (fo.akte == NULL && fo.new_version_of == NULL) {
		free(meta);
		return cli_usage("file", "--akte AZ is required");
	}
	npaths = (size_t)(argc - optind);
	if (npaths == 0) {
		free(meta);
		return cli_usage("file", "no file given");
	}
	if (fo.new_version_of != NULL && npaths != 1) {
		free(meta);
		return cli_usage("file", "--new-version-of takes exactly one file");
	}
	ids = calloc(npaths, sizeof(*ids));
	if (ids == NULL) {
		free(meta);
		return cli_usage("file", "out of memory");
	}
	if ((ex = cli_open(&a, ctx, "file", EAKTE_OPEN_WRITE)) != 0)
		goto out;
	if ((rc = eakte_batch_new(&b, a)) < 0) {
		ex = cli_fail("file", rc);
		goto out;
	}
	for (i = 0; i < npaths; i++) {
		if ((rc = eakte_batch_add_path(b, argv[optind + (int)i], &fo, ids[i])) < 0) {
			ex = cli_fail("file", rc);
			fprintf(stderr, "eakte file: nothing was filed\n");
			goto out;
		}
	}
	if ((rc = eakte_batch_commit(b)) < 0) {
		ex = cli_fail("file", rc);
		goto out;
	}
	for (i = 0; i < npaths; i++)
		printf("%s\n", ids[i]);
	if (fflush(stdout) != 0)
		ex = EXIT_IO;
	/* The documents are filed; text extraction only feeds the index and
	 * never turns a filing into a failure. */
	if ((rc = eakte_extract_pending(a, 0)) < 0)
		fprintf(stderr, "eakte file: warning: text extraction did not finish (%s); the next search, show or file extracts it, or `eakte reindex`\n",
			eakte_error_last());
	if (eakte_archive_warning(a)[0])
		fprintf(stderr, "eakte file: warning: %s\n", eakte_archive_warning(a));
out:
	eakte_batch_free(b);
	eakte_archive_free(a);
	free(ids);
	free(meta);
	return ex;
}
