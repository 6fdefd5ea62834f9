/* cmd_show.c - eakte show DOC [--history] [--json] */
#include "source.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static const char help[] =
	"usage: eakte show DOC [--history] [--json]\n"
	"\n"
	"Show the record of document DOC: Akte, title, type, size, SHA-256, the\n"
	"filing event and the metadata.  The metadata is checked against the hash\n"
	"in the signed event before it is shown.\n"
	"\n"
	"Also shown: every version, and whether the text was extracted for search\n"
	"(\"text not extracted: REASON\" when it failed).\n"
	"\n"
	"  --history  every journal event that touched the document, oldest first\n"
	"  --json     one JSON object (schema/doc-v1.schema.json; with --history\n"
	"             schema/history-v1.schema.json)\n";

static int show_history(cli_src *a, const char *doc, int json)
{
	char *s = NULL;
	json_t *o, *ev;
	size_t i;
	int rc;

	if ((rc = src_read(a, "history", doc, 0, &s)) < 0)
		return cli_fail("show", rc);
	if (json) {
		printf("%s\n", s);
	} else if ((o = json_loads(s, 0, NULL)) != NULL) {
		json_array_foreach(json_object_get(o, "events"), i, ev) {
			json_t *ver = json_object_get(ev, "version");
			printf("%6lld  %s  %-12s %s", (long long)json_integer_value(json_object_get(ev, "seq")),
				json_string_value(json_object_get(ev, "time")), json_string_value(json_object_get(ev, "action")),
				json_string_value(json_object_get(ev, "actor")));
			if (json_is_integer(ver))
				printf("  version %lld", (long long)json_integer_value(ver));
			printf("\n");
		}
		json_decref(o);
	}
	eakte_free(s);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
}

int cmd_show(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "history", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cli_src a = { NULL, NULL };
	int c, rc, json = 0, history = 0, ex;
	char *ixjson = NULL, *dj = NULL;
	json_t *ixj = NULL, *d = NULL, *kv, *v;
	const char *key;
	size_t i;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'H': history = 1; break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return cli_usage("show", "bad option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage("show", "give exactly one document id");
	if ((ex = src_open(&a, ctx, "show", EAKTE_OPEN_READ)) != 0)
		return ex;
	/* The record, its metadata checked against the signed event. */
	if ((rc = src_read(&a, "doc", argv[optind], 0, &dj)) < 0) {
		ex = cli_fail("show", rc);
		goto out;
	}
	if (history) {
		ex = show_history(&a, argv[optind], json);
		goto out;
	}
	if ((d = json_loads(dj, 0, NULL)) == NULL) {
		ex = EXIT_IO;
		goto out;
	}
	/* Versions and text status come from the index; a missing index
	 * entry is reported, the record itself stands without it. */
	if (src_read(&a, "doc-index", argv[optind], 0, &ixjson) == 0)
		ixj = json_loads(ixjson, 0, NULL);
	if (json) {
		char *merged = NULL;
		if (ixj != NULL) {
			json_object_set(d, "versions", json_object_get(ixj, "versions"));
			json_object_set_new(d, "text", json_pack("{s:O, s:O}", "status", json_object_get(ixj, "text_status"),
				"reason", json_object_get(ixj, "text_reason")));
			if (json_is_integer(json_object_get(ixj, "vorgang")))
				json_object_set(d, "vorgang", json_object_get(ixj, "vorgang"));
			merged = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
		}
		printf("%s\n", merged ? merged : dj);
		free(merged);
	} else {
#define STR(k) json_string_value(json_object_get(d, k))
#define INT(k) (long long)json_integer_value(json_object_get(d, k))
		printf("Document   %s\n", STR("id"));
		printf("Akte       %s\n", STR("akte"));
		printf("Title      %s\n", STR("title"));
		printf("File name  %s\n", STR("filename"));
		printf("Version    %lld\n", INT("version"));
		printf("Type       %s\n", STR("mime"));
		printf("Size       %lld bytes\n", INT("size"));
		printf("SHA-256    %s\n", STR("sha256"));
		printf("Filed      %s by %s (event %lld)\n", STR("filed_at"), STR("actor"), INT("seq"));
#undef STR
#undef INT
		kv = json_object_get(d, "meta");
		i = 0;
		json_object_foreach(kv, key, v)
			printf("%-10s %s=%s\n", i++ == 0 ? "Metadata" : "", key, json_string_value(v));
		if (ixj == NULL) {
			printf("Index      not in the index (run `eakte reindex`)\n");
		} else {
			const char *st = json_string_value(json_object_get(ixj, "text_status"));
			const char *why = json_string_value(json_object_get(ixj, "text_reason"));
			json_t *vs = json_object_get(ixj, "versions");
			if (json_is_integer(json_object_get(ixj, "vorgang")))
				printf("Vorgang    %lld\n", (long long)json_integer_value(json_object_get(ixj, "vorgang")));
			if (st && strcmp(st, "ok") == 0)
				printf("Search     text extracted%s%s\n", why && why[0] ? "; " : "", why ? why : "");
			else if (st && strcmp(st, "pending") == 0)
				printf("Search     text not extracted yet (the next search, show or file of this archive extracts it)\n");
			else
				printf("Search     text not extracted: %s\n", why && why[0] ? why : "unknown");
			json_array_foreach(vs, i, v)
				printf("%-10s %lld  %s  %s  %s\n", i == 0 ? "Versions" : "",
					(long long)json_integer_value(json_object_get(v, "version")),
					json_string_value(json_object_get(v, "time")),
					json_string_value(json_object_get(v, "sha256")),
					json_string_value(json_object_get(v, "mime")));
		}
	}
	ex = fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
out:
	json_decref(ixj);
	json_decref(d);
	eakte_free(ixjson);
	eakte_free(dj);
	src_close(&a);
	return ex;
}
