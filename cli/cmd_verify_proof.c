/* cmd_verify_proof.c - eakte verify-proof [FILE] [--key VKEY | --key-file F] */
#include "source.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: eakte verify-proof [FILE] [--key VKEY | --key-file F]\n"
	"\n"
	"Check an inclusion proof (from FILE or standard input): the checkpoint's\n"
	"signature by the verifier key, then the RFC 9162 inclusion of the event in\n"
	"the checkpoint's tree.  The key is VKEY (name+id+key, as printed by\n"
	"`eakte checkpoint --key` and kept in keys/note.vkey), read from F, or the\n"
	"archive's own key when an archive is given.  Exit 0 if the proof holds,\n"
	"1 if it does not.\n";

int cmd_verify_proof(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "key-file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	eakte_proof_result res;
	const char *key = NULL, *key_file = NULL, *path = "-";
	char *owned_key = NULL, *proof = NULL;
	size_t len, klen;
	int c, rc, ex;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': key = optarg; break;
		case 'f': key_file = optarg; break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return cli_usage("verify-proof", "bad option");
		}
	}
	if (optind + 1 == argc)
		path = argv[optind];
	else if (optind != argc)
		return cli_usage("verify-proof", "give at most one proof file");
	if (key != NULL && key_file != NULL)
		return cli_usage("verify-proof", "give --key or --key-file, not both");
	if (key_file != NULL) {
		if ((ex = cli_read_file(&owned_key, &klen, key_file, 4096, "verify-proof")) != 0)
			return ex;
		owned_key[strcspn(owned_key, "\r\n")] = '\0';
		key = owned_key;
	} else if (key == NULL) {
		cli_src a = { NULL, NULL };
		if (ctx->archive == NULL && ctx->socket == NULL) {
			return cli_usage("verify-proof", "no key: give --key VKEY, --key-file F or an archive");
		}
		if ((ex = src_open(&a, ctx, "verify-proof", EAKTE_OPEN_READ)) != 0)
			return ex;
		rc = src_read(&a, "verifier-key", NULL, 0, &owned_key);
		src_close(&a);
		if (rc < 0)
			return cli_fail("verify-proof", rc);
		key = owned_key;
	}
	if ((ex = cli_read_file(&proof, &len, path, 4u << 20, "verify-proof")) != 0) {
		free(owned_key);
		return ex;
	}
	rc = eakte_proof_verify(&res, proof, len, key);
	if (rc == EAKTE_EVERIFY || rc == EAKTE_ESIGNATURE) {
		fprintf(stderr, "eakte verify-proof: FAILED: %s\n", eakte_error_last());
		ex = EXIT_VERIFY;
	} else if (rc < 0) {
		ex = cli_fail("verify-proof", rc);
	} else {
		printf("OK: event %llu (%s%s%s) is in the checkpoint of size %llu signed by %s (key id %s)\n",
			(unsigned long long)res.seq, res.action, res.subject[0] ? " " : "", res.subject,
			(unsigned long long)res.tree_size, res.origin, res.key_id);
		ex = EXIT_OK;
	}
	free(proof);
	free(owned_key);
	return ex;
}
