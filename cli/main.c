/*
 * main.c - eakte: the command-line front end of libeakte.
 *
 *   eakte [--archive DIR] VERB [ARGS...]
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *name;
	int (*fn)(const cli_ctx *, int, char **);
	const char *summary;
	int daemon;          /* 1: works through eakted (--socket); 2: always local, needs no archive */
} verbs[] = {
	{ "init", cmd_init, "create a new archive", 0 },
	{ "plan", cmd_plan, "import and show the Aktenplan", 1 },
	{ "akte", cmd_akte, "create, show, list, close and reopen Akten", 1 },
	{ "file", cmd_file, "file documents (or a new version) into an Akte", 1 },
	{ "meta", cmd_meta, "change a document's metadata", 1 },
	{ "retention", cmd_retention, "show, set and list due retention of Akten", 1 },
	{ "hold", cmd_hold, "set, release and list legal holds (Löschsperren)", 1 },
	{ "dispose", cmd_dispose, "propose and approve disposal (four-eyes)", 1 },
	{ "show", cmd_show, "show a document's record and history", 1 },
	{ "get", cmd_get, "write a document's content, re-verified", 1 },
	{ "search", cmd_search, "search titles, metadata and text", 1 },
	{ "ls", cmd_ls, "the tree: Aktenplan, Akten, Vorgänge, documents", 1 },
	{ "reindex", cmd_reindex, "rebuild the index from the journal", 1 },
	{ "log", cmd_log, "list the journal, oldest first", 1 },
	{ "checkpoint", cmd_checkpoint, "print the latest signed checkpoint", 1 },
	{ "proof", cmd_proof, "print the inclusion proof of an event", 1 },
	{ "verify-proof", cmd_verify_proof, "check an inclusion proof", 1 },
	{ "verify", cmd_verify, "verify the whole archive", 1 },
	{ "export", cmd_export, "write an Akte's self-verifying export package", 1 },
	{ "import", cmd_import, "take an export package from another archive in", 1 },
	{ "verify-package", cmd_verify_package, "verify an export package offline", 2 },
};

int cli_fail(const char *verb, int err)
{
	fprintf(stderr, "eakte %s: %s\n", verb, eakte_error_last()[0] ? eakte_error_last() : eakte_error_name(err));
	return exit_code_for(err);
}

int cli_oom(const char *verb, const char *what)
{
	fprintf(stderr, "eakte %s: out of memory: %s\n", verb, what);
	return EXIT_IO;
}

int cli_usage(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "eakte %s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'eakte %s --help'.\n", verb);
	return EXIT_USAGE;
}

int cli_open(eakte_archive **out, const cli_ctx *ctx, const char *verb, unsigned int flags)
{
	int rc;

	if (ctx->archive == NULL) {
		fprintf(stderr, "eakte %s: no archive given: use --archive DIR before the verb or set EAKTE_ARCHIVE\n", verb);
		return EXIT_USAGE;
	}
	rc = eakte_archive_open(out, ctx->archive, flags);
	if (rc < 0)
		return cli_fail(verb, rc);
	return 0;
}

int cli_connect(eakte_client **out, const cli_ctx *ctx, const char *verb)
{
	int rc = eakte_client_connect(out, ctx->socket);
	if (rc < 0)
		return cli_fail(verb, rc);
	return 0;
}

int cli_read_file(char **out, size_t *len, const char *path, size_t max, const char *verb)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, n = 0;
	char *buf;

	*out = NULL;
	if (fd < 0) {
		fprintf(stderr, "eakte %s: cannot open %s: %s\n", verb, path, strerror(errno));
		return errno == ENOENT ? EXIT_NOTFOUND : EXIT_IO;
	}
	buf = malloc(cap);
	for (;;) {
		ssize_t r;
		if (buf == NULL) {
			fprintf(stderr, "eakte %s: out of memory reading %s\n", verb, path);
			if (fd != STDIN_FILENO)
				close(fd);
			return EXIT_IO;
		}
		if (n + 1 >= cap) {
			char *p;
			if (cap > max + 1) {
				fprintf(stderr, "eakte %s: %s is larger than %zu bytes\n", verb, path, max);
				free(buf);
				if (fd != STDIN_FILENO)
					close(fd);
				return EXIT_USAGE;
			}
			p = realloc(buf, cap * 2);
			if (p == NULL) {
				free(buf);
				buf = NULL;
				continue;
			}
			buf = p;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "eakte %s: cannot read %s: %s\n", verb, path, strerror(errno));
			free(buf);
			if (fd != STDIN_FILENO)
				close(fd);
			return EXIT_IO;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (n > max) {
		fprintf(stderr, "eakte %s: %s is larger than %zu bytes\n", verb, path, max);
		free(buf);
		return EXIT_USAGE;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: eakte [--archive DIR | --socket PATH] VERB [ARGS...]\n\n"
		"The archive is DIR, or $EAKTE_ARCHIVE; with --socket (or $EAKTE_SOCKET) the\n"
		"verbs marked * work through the daemon eakted instead.  Verbs:\n");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-13s%s %s\n", verbs[i].name, verbs[i].daemon == 1 ? "*" : " ", verbs[i].summary);
	fprintf(f, "\n'eakte VERB --help' and 'man eakte-VERB' describe each verb.\n"
		"Exit codes: 0 ok, 1 verification failed, 2 usage, 3 not found, 4 refused, 5 I/O or internal error.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "archive", required_argument, NULL, 'a' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	cli_ctx ctx = { getenv("EAKTE_ARCHIVE"), "eakte", getenv("EAKTE_SOCKET") };
	size_t i;
	int c;

	if (ctx.archive != NULL && ctx.archive[0] == '\0')
		ctx.archive = NULL;
	if (ctx.socket != NULL && ctx.socket[0] == '\0')
		ctx.socket = NULL;
	/* '+': stop at the verb; its options are its own. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			ctx.archive = optarg;
			break;
		case 's':
			ctx.socket = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("eakte %s\n", eakte_version());
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[optind], verbs[i].name) == 0) {
			int vargc = argc - optind;
			char **vargv = argv + optind;
			if (ctx.socket != NULL && verbs[i].daemon == 0 && !(vargc > 1 && (strcmp(vargv[1], "--help") == 0 ||
			    strcmp(vargv[1], "-h") == 0))) {
				fprintf(stderr, "eakte %s: this verb does not work through eakted yet; "
					"drop --socket and unset EAKTE_SOCKET to use the archive directly\n", verbs[i].name);
				return EXIT_USAGE;
			}
			optind = 0; /* reset getopt for the verb */
			return verbs[i].fn(&ctx, vargc, vargv);
		}
	}
	fprintf(stderr, "eakte: unknown verb '%s'\n", argv[optind]);
	usage(stderr);
	return EXIT_USAGE;
}
