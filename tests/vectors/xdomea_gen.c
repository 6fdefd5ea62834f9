/* xdomea_gen MODEL.json: write the xdomea 0503 message that lib/xdomea.c
 * makes of the model to stdout (for the xmllint run of the vectors suite
 * and for looking at a message by hand).  With --name, print the message's
 * file name instead.  Exit 0, or 2 with the error on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xdomea.h"

int main(int argc, char **argv)
{
	json_error_t jerr;
	json_t *model;
	char *out = NULL;
	size_t len = 0;
	int name_only = argc == 3 && strcmp(argv[1], "--name") == 0, rc;

	if (argc != 2 && !name_only) {
		fprintf(stderr, "usage: xdomea_gen [--name] MODEL.json\n");
		return 2;
	}
	model = json_load_file(argv[argc - 1], JSON_REJECT_DUPLICATES, &jerr);
	if (model == NULL) {
		fprintf(stderr, "xdomea_gen: %s line %d: %s\n", argv[argc - 1], jerr.line, jerr.text);
		return 2;
	}
	if (name_only) {
		rc = eakte_xdomea__message_name(&out, json_string_value(json_object_get(model, "message_id")));
		if (rc == 0)
			len = strlen(out);
	} else {
		rc = eakte_xdomea__0503(&out, &len, model);
	}
	json_decref(model);
	if (rc != 0) {
		fprintf(stderr, "xdomea_gen: %s: %s\n", argv[argc - 1], eakte_error_last());
		return 2;
	}
	if (fwrite(out, 1, len, stdout) != len || (name_only && putchar('\n') == EOF) || fflush(stdout) != 0) {
		perror("xdomea_gen: writing the message");
		free(out);
		return 2;
	}
	free(out);
	return 0;
}
