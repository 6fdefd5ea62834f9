/* cmd_ls.c - eakte ls [AZ] [--json]: the tree Aktenplan / Akte / Vorgang / Dokument */
#include "source.h"

#include <getopt.h>
#include <string.h>

#include <jansson.h>

static const char help[] =
	"usage: eakte ls [AZ] [--json]\n"
	"\n"
	"Without AZ: the Aktenplan as a tree with its Akten and their counts of\n"
	"Vorgänge and documents.  With AZ: that Akte with its Vorgänge and documents.\n"
	"\n"
	"  --json  JSON (schema/tree-v1.schema.json, or schema/akte-v1.schema.json)\n";

static int depth_of(const char *code)
{
	int d = 0;

	for (; *code; code++)
		d += *code == '.';
	return d;
}

int cmd_ls(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cli_src a = { NULL, NULL };
	char *s = NULL;
	json_t *o = NULL, *p, *e;
	size_t i, k;
	int c, rc, json = 0, ex;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return cli_usage("ls", "bad option");
		}
	}
	if (optind + 1 < argc)
		return cli_usage("ls", "give at most one Aktenzeichen");
	if ((ex = src_open(&a, ctx, "ls", EAKTE_OPEN_READ)) != 0)
		return ex;
	rc = optind < argc ? src_read(&a, "akte", argv[optind], 0, &s) : src_read(&a, "tree", NULL, 0, &s);
	if (rc < 0) {
		ex = cli_fail("ls", rc);
		goto out;
	}
	if (json) {
		printf("%s\n", s);
	} else if ((o = json_loads(s, 0, NULL)) != NULL && optind < argc) {
		const json_t *docs = json_object_get(o, "documents");
		printf("%s  %s  (%zu documents)\n", json_string_value(json_object_get(o, "az")),
			json_string_value(json_object_get(o, "title")), json_array_size(docs));
		/* Documents without a Vorgang first, then each Vorgang with its own. */
		json_array_foreach(docs, k, e)
			if (!json_is_integer(json_object_get(e, "vorgang")))
				printf("  %s  v%lld  %s\n", json_string_value(json_object_get(e, "id")),
					(long long)json_integer_value(json_object_get(e, "version")), json_string_value(json_object_get(e, "title")));
		json_array_foreach(json_object_get(o, "vorgaenge"), i, p) {
			json_int_t n = json_integer_value(json_object_get(p, "vorgang"));
			printf("  Vorgang %lld  %s  (%lld documents)\n", (long long)n, json_string_value(json_object_get(p, "title")),
				(long long)json_integer_value(json_object_get(p, "documents")));
			json_array_foreach(docs, k, e)
				if (json_integer_value(json_object_get(e, "vorgang")) == n)
					printf("    %s  v%lld  %s\n", json_string_value(json_object_get(e, "id")),
						(long long)json_integer_value(json_object_get(e, "version")),
						json_string_value(json_object_get(e, "title")));
		}
	} else if (o != NULL) {
		json_array_foreach(json_object_get(o, "plan"), i, p) {
			const char *code = json_string_value(json_object_get(p, "code"));
			int d = depth_of(code);
			size_t akten = 0, docs = 0;
			json_array_foreach(json_object_get(o, "akten"), k, e)
				if (strcmp(json_string_value(json_object_get(e, "plan")), code) == 0) {
					akten++;
					docs += (size_t)json_integer_value(json_object_get(e, "documents"));
				}
			printf("%*s%s  %s  (%zu Akten, %zu documents)\n", 2 * d, "", code,
				json_string_value(json_object_get(p, "title")), akten, docs);
			json_array_foreach(json_object_get(o, "akten"), k, e)
				if (strcmp(json_string_value(json_object_get(e, "plan")), code) == 0)
					printf("%*s%s  %s  (%lld Vorgänge, %lld documents)%s\n", 2 * d + 2, "",
						json_string_value(json_object_get(e, "az")), json_string_value(json_object_get(e, "title")),
						(long long)json_integer_value(json_object_get(e, "vorgaenge")),
						(long long)json_integer_value(json_object_get(e, "documents")),
						json_is_string(json_object_get(e, "closed_on")) ? "  [zdA]" : "");
		}
	}
	ex = fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
out:
	json_decref(o);
	eakte_free(s);
	src_close(&a);
	return ex;
}
