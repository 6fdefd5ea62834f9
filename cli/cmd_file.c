/* cmd_file.c - eakte file PATH... --akte AZ [--vorgang N] [--title T] [--meta KEY=VALUE]...
 *              eakte file --new-version-of DOC PATH */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
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

/*
 * Through eakted: the files are opened here, with the caller's own
 * permissions, and their descriptors go to the daemon, which never sees a
 * path.  Up to EAKTE_CLIENT_MAX_FDS files are one group commit, all or
 * none; more are sent in groups of that size.
 */
static int file_through_daemon(const cli_ctx *ctx, const eakte_file_options *fo, char **paths, size_t n,
	char (*ids)[EAKTE_ID_LEN + 1])
{
	eakte_client *cl = NULL;
	eakte_file_options *o = NULL;
	int *fds = NULL, ex = EXIT_OK, rc;
	size_t done = 0, i;

	o = calloc(EAKTE_CLIENT_MAX_FDS, sizeof(*o));
	fds = calloc(EAKTE_CLIENT_MAX_FDS, sizeof(*fds));
	if (o == NULL || fds == NULL) {
		free(o);
		free(fds);
		return cli_oom("file", "descriptors for the daemon");
	}
	if ((ex = cli_connect(&cl, ctx, "file")) != 0)
		goto out;
	while (done < n && ex == EXIT_OK) {
		size_t k = n - done < EAKTE_CLIENT_MAX_FDS ? n - done : EAKTE_CLIENT_MAX_FDS, opened = 0;
		const char *nothing = done ? "the documents listed above were filed, the rest not" : "nothing was filed";

		for (i = 0; i < k; i++) {
			const char *path = paths[done + i], *base = strrchr(path, '/');
			struct stat st;
			int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

			if (fd < 0) {
				int e = errno;
				fprintf(stderr, "eakte file: cannot open %s: %s; %s\n", path, strerror(e), nothing);
				ex = e == ENOENT ? EXIT_NOTFOUND : EXIT_IO;
				break;
			}
			fds[opened++] = fd;
			if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
				fprintf(stderr, "eakte file: %s is not a regular file%s; %s\n", path,
					S_ISDIR(st.st_mode) ? " but a directory" : "", nothing);
				ex = EXIT_USAGE;
				break;
			}
			o[i] = *fo;
			o[i].filename = base ? base + 1 : path;
			o[i].label = path;
		}
		if (ex == EXIT_OK && (rc = eakte_client_file(cl, fds, o, k, ids + done)) < 0)
			ex = cli_fail("file", rc);
		for (i = 0; i < opened; i++)
			close(fds[i]);
		if (ex == EXIT_OK)
			done += k;
	}
	for (i = 0; i < done; i++)
		printf("%s\n", ids[i]);
	if (fflush(stdout) != 0 && ex == EXIT_OK)
		ex = EXIT_IO;
out:
	eakte_client_free(cl);
	free(o);
	free(fds);
	return ex;
}

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
		return cli_oom("file", "the option list");
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
		return cli_oom("file", "the list of ids");
	}
	if (ctx->socket != NULL) {
		ex = file_through_daemon(ctx, &fo, argv + optind, npaths, ids);
		goto out;
	}
	if ((ex = cli_open(&a, ctx, "file", EAKTE_OPEN_WRITE)) != 0)
		goto out;
	if ((rc = eakte_batch_new(&b, a)) < 0) {
		ex = cli_fail("file", rc);
		goto out;
	}
	for (i = 0; i < npaths; i++) {
		if ((rc = eakte_batch_add_path(b, argv[optind + (int)i], &fo, ids[i])) < 0) {
			fprintf(stderr, "eakte file: %s; nothing was filed\n", eakte_error_last());
			ex = exit_code_for(rc);
			goto out;
		}
	}
	if ((rc = eakte_batch_commit(b)) < 0) {
		/* The message says whether anything was filed. */
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
