/* cmd_import.c - eakte import FILE [--as AZ] [--key PUBKEY] [--json] */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
	"usage: eakte import FILE [--as AZ] [--key PUBKEY] [--json]\n"
	"\n"
	"Take the Akte of export package FILE (from another eakte archive) into this\n"
	"archive.  The package is verified first, as `eakte verify-package` does;\n"
	"anything that does not verify is refused (exit 1) and nothing is written.\n"
	"Then one journal write adds an `import` event naming the source archive, its\n"
	"checkpoint, key and the package's SHA-256, and replays the Akte's events\n"
	"(akte-create, vorgang-create, file, meta, akte-close, akte-reopen), each\n"
	"carrying the original event and its inclusion proof.  Documents get new ids;\n"
	"the archive's format policy applies (exit 4).\n"
	"\n"
	"  --as AZ        import under Aktenzeichen AZ; without it the package's\n"
	"                 Aktenzeichen, which must not exist here (exit 4)\n"
	"  --key PUBKEY   the key the package must be signed by (as for\n"
	"                 verify-package: PEM, note.vkey or allowed_signers)\n"
	"  --json         print the result as JSON\n";

int cmd_import(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "as", required_argument, NULL, 'a' },
		{ "key", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	eakte_import_options io = EAKTE_IMPORT_OPTIONS_INIT;
	eakte_import_result res;
	const char *key_arg = NULL;
	char *key = NULL;
	size_t key_len = 0;
	cli_src s = { NULL, NULL };
	int c, rc, ex, json = 0, fd;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': io.as = optarg; break;
		case 'k': key_arg = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return cli_usage("import", "bad option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage("import", "give exactly one package file");
	if (key_arg != NULL) {
		if ((ex = cli_read_key(&key, &key_len, key_arg, "import")) != 0)
			return ex;
		io.package.key = key;
		io.package.key_len = key_len;
	}
	if ((fd = open(argv[optind], O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "eakte import: cannot open %s: %s\n", argv[optind], strerror(errno));
		free(key);
		return errno == ENOENT ? EXIT_NOTFOUND : EXIT_IO;
	}
	if ((ex = src_open(&s, ctx, "import", EAKTE_OPEN_WRITE)) != 0) {
		close(fd);
		free(key);
		return ex;
	}
	rc = src_import(&s, fd, &io, &res);
	close(fd);
	if (rc == EAKTE_EVERIFY) {
		fprintf(stderr, "eakte import: FAILED: %s: %s; nothing was imported\n", argv[optind], eakte_error_last());
		ex = EXIT_VERIFY;
		goto out;
	}
	if (rc < 0) {
		ex = cli_fail("import", rc);
		goto out;
	}
	if (json) {
		json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:s}", "akte", res.az, "seq", (json_int_t)res.seq,
			"events", (json_int_t)res.events, "documents", (json_int_t)res.documents, "fingerprint", res.fingerprint);
		if (o == NULL || json_dumpf(o, stdout, JSON_COMPACT) < 0) {
			json_decref(o);
			ex = cli_oom("import", "the result");
			goto out;
		}
		json_decref(o);
		putchar('\n');
	} else {
		printf("imported %s as Akte %s: %llu events (import event %llu), %llu document versions; signed by %s\n",
			argv[optind], res.az, (unsigned long long)res.events, (unsigned long long)res.seq,
			(unsigned long long)res.documents, res.fingerprint);
		if (key_arg == NULL)
			printf("the package's key was not pinned (--key): compare %s with the source archive's key\n", res.fingerprint);
	}
	if (src_warning(&s)[0] != '\0')
		fprintf(stderr, "eakte import: warning: %s\n", src_warning(&s));
	ex = fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
out:
	src_close(&s);
	free(key);
	return ex;
}
