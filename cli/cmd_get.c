/* cmd_get.c - eakte get DOC [--version N] [-o FILE] */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
	"usage: eakte get DOC [--version N] [-o FILE]\n"
	"\n"
	"Write the content of document DOC, byte for byte as filed, to standard output\n"
	"or FILE.  The SHA-256 is re-checked on the way out.  With -o, FILE appears\n"
	"only if the check passed; on standard output a failed check (exit 1) means\n"
	"the bytes already written must be discarded.\n"
	"\n"
	"  --version N        that version (1 = as first filed; default: the latest)\n"
	"  -o, --output FILE  write to FILE (replaced atomically)\n";

int cmd_get(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "version", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL;
	char *tmp = NULL;
	cli_src a = { NULL, NULL };
	int c, rc, ex, fd = STDOUT_FILENO, created = 0;
	unsigned int version = 0;

	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case 'v': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end != '\0' || v < 1 || v > 1000000)
				return cli_usage("get", "--version needs a number 1, 2, ...");
			version = (unsigned int)v;
			break;
		}
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return cli_usage("get", "bad option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage("get", "give exactly one document id");
	if ((ex = src_open(&a, ctx, "get", EAKTE_OPEN_READ)) != 0)
		return ex;
	if (output != NULL) {
		if (asprintf(&tmp, "%s.eakte-tmp.%ld", output, (long)getpid()) < 0) {
			tmp = NULL;
			ex = EXIT_IO;
			goto out;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "eakte get: cannot create %s: %s\n", tmp, strerror(errno));
			ex = EXIT_IO;
			goto out;
		}
		created = 1;
	}
	rc = src_get(&a, argv[optind], version, fd);
	if (rc < 0) {
		ex = cli_fail("get", rc);
		/* Nothing was written when the document was not found. */
		if (output == NULL && rc != EAKTE_ENOTFOUND && rc != EAKTE_EINVALID)
			fprintf(stderr, "eakte get: discard what was written to standard output\n");
		goto out;
	}
	if (output != NULL) {
		if (fsync(fd) != 0 || close(fd) != 0) {
			fd = -1;
			fprintf(stderr, "eakte get: cannot write %s: %s\n", output, strerror(errno));
			ex = EXIT_IO;
			goto out;
		}
		fd = -1;
		if (rename(tmp, output) != 0) {
			fprintf(stderr, "eakte get: cannot rename to %s: %s\n", output, strerror(errno));
			ex = EXIT_IO;
			goto out;
		}
		free(tmp);
		tmp = NULL;
	}
	ex = EXIT_OK;
out:
	if (output != NULL && fd >= 0)
		close(fd);
	if (tmp != NULL) {
		/* Remove only our own temporary file, never one that was there. */
		if (created)
			unlink(tmp);
		free(tmp);
	}
	src_close(&a);
	return ex;
}
