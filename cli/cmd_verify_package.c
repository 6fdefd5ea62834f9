/* cmd_verify_package.c - eakte verify-package FILE|DIR [--key PUBKEY] [--json] */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char help[] =
	"usage: eakte verify-package FILE|- [--key PUBKEY] [--json]\n"
	"       eakte verify-package DIR\n"
	"\n"
	"Verify an export package (a tar or zip file; - reads it from standard\n"
	"input) offline, needing nothing but the package: the BagIt manifests, every\n"
	"document and metadata object against its journal event, every event's\n"
	"inclusion proof against the checkpoint, and the checkpoint's signature by\n"
	"the key in the package.  A key carried in the package proves nothing by\n"
	"itself: the output names its fingerprint as ssh-keygen -l prints it;\n"
	"compare it with the archive's key obtained out of band, or pin that key\n"
	"with --key.  Exit 0 if the package verifies, 1 naming the first bad item\n"
	"if not.\n"
	"\n"
	"With DIR, validate a plain BagIt 1.0 bag in that directory (RFC 8493:\n"
	"bagit.txt, manifests and tag manifests with md5, sha1, sha256 or sha512).\n"
	"\n"
	"  --key PUBKEY  the key the package must be signed by: a file with a PEM\n"
	"                public key (keys/signing.pub.pem), a C2SP verifier key\n"
	"                (keys/note.vkey) or ssh-ed25519 lines (keys/allowed_signers);\n"
	"                or such a key given directly.  A different signer: exit 1\n"
	"  --json        print the report as JSON (schema/package-v1.schema.json)\n";

int cli_read_key(char **out, size_t *len, const char *arg, const char *verb)
{
	struct stat st;

	if (stat(arg, &st) != 0 && errno == ENOENT && (strchr(arg, '+') != NULL || strstr(arg, "ssh-ed25519") != NULL)) {
		*out = strdup(arg);
		if (*out == NULL)
			return cli_oom(verb, "the key");
		*len = strlen(arg);
		return 0;
	}
	return cli_read_file(out, len, arg, 1u << 20, verb);
}

int cmd_verify_package(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	eakte_package_options po = EAKTE_PACKAGE_OPTIONS_INIT;
	const char *key_arg = NULL, *path;
	char *key = NULL, *report = NULL;
	size_t key_len = 0;
	struct stat st;
	json_t *r = NULL;
	int c, rc, ex, json = 0, fd;

	(void)ctx;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': key_arg = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return cli_usage("verify-package", "bad option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage("verify-package", "give exactly one package file (or bag directory)");
	path = argv[optind];
	if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (key_arg != NULL || json)
			return cli_usage("verify-package", "--key and --json apply to package files, not to bag directories");
		rc = eakte_bag_validate_dir(path);
		if (rc == EAKTE_EVERIFY) {
			fprintf(stderr, "eakte verify-package: FAILED: %s: %s\n", path, eakte_error_last());
			return EXIT_VERIFY;
		}
		if (rc < 0)
			return cli_fail("verify-package", rc);
		printf("OK: %s is a valid BagIt 1.0 bag\n", path);
		return EXIT_OK;
	}
	if (key_arg != NULL) {
		if ((ex = cli_read_key(&key, &key_len, key_arg, "verify-package")) != 0)
			return ex;
		po.key = key;
		po.key_len = key_len;
	}
	if (strcmp(path, "-") == 0) {
		fd = dup(STDIN_FILENO);
		path = "standard input";
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		fprintf(stderr, "eakte verify-package: cannot open %s: %s\n", path, strerror(errno));
		free(key);
		return errno == ENOENT ? EXIT_NOTFOUND : EXIT_IO;
	}
	rc = eakte_package_verify(&report, fd, path, &po);
	close(fd);
	if (rc < 0 && rc != EAKTE_EVERIFY) {
		ex = cli_fail("verify-package", rc);
		goto out;
	}
	ex = rc == 0 ? EXIT_OK : EXIT_VERIFY;
	if (json) {
		puts(report);
		if (rc < 0)
			fprintf(stderr, "eakte verify-package: FAILED: %s\n", json_string_value(json_object_get(r = json_loads(report, 0, NULL), "failure")));
		goto out;
	}
	if ((r = json_loads(report, 0, NULL)) == NULL) {
		ex = cli_oom("verify-package", "the report");
		goto out;
	}
	{
		json_t *k = json_object_get(r, "key"), *cp = json_object_get(r, "checkpoint");
		if (rc == 0) {
			printf("OK: %s verifies: Akte %s, %lld events with inclusion proofs, %lld document versions, %lld metadata objects\n",
				path, json_string_value(json_object_get(r, "akte")), json_integer_value(json_object_get(r, "events")),
				json_integer_value(json_object_get(r, "documents")), json_integer_value(json_object_get(r, "objects")));
			printf("checkpoint: origin %s, size %lld, root %s\n", json_string_value(json_object_get(k, "origin")),
				json_integer_value(json_object_get(cp, "size")), json_string_value(json_object_get(cp, "root")));
			printf("package SHA-256: %s\n", json_string_value(json_object_get(json_object_get(r, "package"), "sha256")));
			if (json_string_value(json_object_get(r, "format")) != NULL &&
			    strcmp(json_string_value(json_object_get(r, "format")), "xdomea") == 0)
				printf("xdomea: the 0503 message names exactly the primary files, each a document version above\n");
		}
		if (k != NULL) {
			json_t *pinned = json_object_get(k, "pinned");
			printf("signed by: %s (note key id %s, origin %s)\n", json_string_value(json_object_get(k, "fingerprint")),
				json_string_value(json_object_get(k, "note_key_id")), json_string_value(json_object_get(k, "origin")));
			if (json_is_true(pinned))
				printf("key: matches the pinned key %s\n", key_arg);
			else if (json_is_false(pinned))
				printf("key: DOES NOT match the pinned key %s\n", key_arg);
			else if (rc == 0)
				printf("key: not pinned: the package is only self-consistent; the key inside it proves nothing by itself.\n"
					"     Compare the fingerprint above with the archive's key obtained out of band\n"
					"     (awk '{print $(NF-1), $NF}' keys/allowed_signers | ssh-keygen -lf -),\n"
					"     or verify again with --key.\n");
		}
		if (rc < 0)
			fprintf(stderr, "eakte verify-package: FAILED: %s\n", json_string_value(json_object_get(r, "failure")));
	}
	if (fflush(stdout) != 0)
		ex = EXIT_IO;
out:
	json_decref(r);
	eakte_free(report);
	free(key);
	return ex;
}
