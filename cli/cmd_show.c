/* cmd_show.c - eakte show DOC [--history] [--json] */
#include "cli.h"

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

static int show_history(eakte_archive *a, const char *doc, int json)
{
	char *s = NULL;
	json_t *o, *ev;
	size_t i;
	int rc;

	if ((rc = eakte_doc_history_json(&s, a, doc)) < 0)
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
	eakte_archive *a = NULL;
	eakte_doc *d = NULL;
	int c, rc, json = 0, history = 0, ex;
	char *ixjson = NULL;
	json_t *ixj = NULL;
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
	if ((ex = cli_open(&a, ctx, "show", EAKTE_OPEN_READ)) != 0)
		return ex;
	if ((rc = eakte_doc_lookup(&d, a, argv[optind])) < 0) {
		ex = cli_fail("show", rc);
		goto out;
	}
	if (history) {
		ex = show_history(a, argv[optind], json);
		goto out;
	}
	/* Versions and text status come from the index; a missing index
	 * entry is reported, the record itself stands without it. */
	if (eakte_doc_index_json(&ixjson, a, argv[optind]) == 0)
		ixj = json_loads(ixjson, 0, NULL);
	if (json) {
		char *s;
		if ((rc = eakte_doc_to_json(&s, d)) < 0) {
			ex = cli_fail("show", rc);
			goto out;
		}
		if (ixj != NULL) {
			json_t *o = json_loads(s, 0, NULL);
			char *merged;
			if (o != NULL) {
				json_object_set(o, "versions", json_object_get(ixj, "versions"));
				json_object_set_new(o, "text", json_pack("{s:O, s:O}", "status", json_object_get(ixj, "text_status"),
					"reason", json_object_get(ixj, "text_reason")));
				if (json_is_integer(json_object_get(ixj, "vorgang")))
					json_object_set(o, "vorgang", json_object_get(ixj, "vorgang"));
				merged = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
				json_decref(o);
				if (merged != NULL) {
					eakte_free(s);
					s = merged;
				}
			}
		}
		printf("%s\n", s);
		free(s);
	} else {
		printf("Document   %s\n", eakte_doc_id(d));
		printf("Akte       %s\n", eakte_doc_akte(d));
		printf("Title      %s\n", eakte_doc_title(d));
		printf("File name  %s\n", eakte_doc_filename(d));
		printf("Version    %u\n", eakte_doc_version(d));
		printf("Type       %s\n", eakte_doc_mime(d));
		printf("Size       %" PRIu64 " bytes\n", eakte_doc_size(d));
		printf("SHA-256    %s\n", eakte_doc_sha256(d));
		printf("Filed      %s by %s (event %" PRIu64 ")\n", eakte_doc_filed_at(d), eakte_doc_actor(d), eakte_doc_seq(d));
		for (i = 0; i < eakte_doc_meta_count(d); i++) {
			const char *k, *v;
			eakte_doc_meta(d, i, &k, &v);
			printf("%-10s %s=%s\n", i == 0 ? "Metadata" : "", k, v);
		}
		if (ixj == NULL) {
			printf("Index      not in the index (run `eakte reindex`)\n");
		} else {
			const char *st = json_string_value(json_object_get(ixj, "text_status"));
			const char *why = json_string_value(json_object_get(ixj, "text_reason"));
			json_t *vs = json_object_get(ixj, "versions"), *v;
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
	eakte_free(ixjson);
	eakte_doc_free(d);
	eakte_archive_free(a);
	return ex;
}
