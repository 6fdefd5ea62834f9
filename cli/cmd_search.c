/* cmd_search.c - eakte search QUERY [filters] [--sort S] [--limit N] [--offset N] [--json] */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static const char help[] =
	"usage: eakte search [QUERY | --query-file FILE] [--akte AZ] [--plan CODE] [--from DATE] [--to DATE]\n"
	"                    [--type MIME] [--meta KEY=VALUE]... [--sort newest|oldest|relevance]\n"
	"                    [--limit N] [--offset N] [--json]\n"
	"\n"
	"Search titles, metadata, Aktenzeichen and document text.  German spelling\n"
	"variants match each other: ä/ae, ö/oe, ü/ue, ß/ss, upper and lower case.\n"
	"QUERY: words (all must occur), \"a phrase\", word* (prefix), OR, -word (not),\n"
	"parentheses; see docs/search.md.  Without QUERY, at least one filter lists\n"
	"the documents it selects.\n"
	"\n"
	"  --query-file FILE  read the query from FILE (\"-\": standard input)\n"
	"  --akte AZ        in this Akte; AZ* for every Aktenzeichen starting with AZ\n"
	"  --plan CODE      in Akten of this plan code or its sub-codes\n"
	"  --from, --to     document date (metadata \"date\", else the filing date)\n"
	"  --type MIME      e.g. application/pdf, or image/* for a family\n"
	"  --meta KEY=VALUE metadata equal to VALUE, repeatable (all must match)\n"
	"  --sort           newest first (default), oldest first, or relevance\n"
	"                   (bm25 among the newest 5,000 matches; docs/search.md)\n"
	"  --limit N        at most N results (default 20, at most 1000)\n"
	"  --offset N       skip the first N results\n"
	"  --json           JSON (schema/search-v1.schema.json)\n";

static int parse_size(size_t *out, const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*end != '\0' || s[0] == '-' || s[0] == '\0' || v > 1000000)
		return -1;
	*out = (size_t)v;
	return 0;
}

int cmd_search(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "akte", required_argument, NULL, 'a' },
		{ "plan", required_argument, NULL, 'p' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "type", required_argument, NULL, 'T' },
		{ "meta", required_argument, NULL, 'm' },
		{ "sort", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'l' },
		{ "offset", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "query-file", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	eakte_search_options so = EAKTE_SEARCH_OPTIONS_INIT;
	const char **meta;
	size_t nmeta = 0, i;
	eakte_archive *a = NULL;
	char *s = NULL, *qbuf = NULL;
	const char *qfile = NULL;
	json_t *o = NULL, *h;
	int c, rc, json = 0, ex;

	meta = calloc((size_t)argc + 1, sizeof(*meta));
	if (meta == NULL)
		return cli_oom("search", "the option list");
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': so.akte = optarg; break;
		case 'p': so.plan = optarg; break;
		case 'f': so.from = optarg; break;
		case 't': so.to = optarg; break;
		case 'T': so.mime = optarg; break;
		case 'm': meta[nmeta++] = optarg; break;
		case 's': so.sort = optarg; break;
		case 'l':
			if (parse_size(&so.limit, optarg) < 0 || so.limit == 0) {
				free(meta);
				return cli_usage("search", "--limit needs a number 1-1000");
			}
			break;
		case 'o':
			if (parse_size(&so.offset, optarg) < 0) {
				free(meta);
				return cli_usage("search", "--offset needs a number");
			}
			break;
		case 'j': json = 1; break;
		case 'q': qfile = optarg; break;
		case 'h': fputs(help, stdout); free(meta); return EXIT_OK;
		default: free(meta); return cli_usage("search", "bad option");
		}
	}
	if (optind + 1 < argc) {
		free(meta);
		return cli_usage("search", "give the query as one argument (quote it)");
	}
	if (optind < argc && qfile != NULL) {
		free(meta);
		return cli_usage("search", "give the query as an argument or with --query-file, not both");
	}
	if (optind < argc) {
		so.query = argv[optind];
		so.query_len = strlen(argv[optind]);
	} else if (qfile != NULL) {
		size_t qlen;
		/* The library refuses long queries with a clear message; read a
		 * bit more than its limit so that it can say so. */
		if ((ex = cli_read_file(&qbuf, &qlen, qfile, 4u << 20, "search")) != 0) {
			free(meta);
			return ex;
		}
		while (qlen > 0 && (qbuf[qlen - 1] == '\n' || qbuf[qlen - 1] == '\r'))
			qlen--;
		so.query = qbuf;
		so.query_len = qlen;
	}
	so.meta = meta;
	so.meta_count = nmeta;
	if (ctx->socket != NULL) {
		eakte_client *cl = NULL;
		if ((ex = cli_connect(&cl, ctx, "search")) != 0)
			goto out;
		rc = eakte_client_search(cl, &s, &so);
		eakte_client_free(cl);
	} else {
		if ((ex = cli_open(&a, ctx, "search", EAKTE_OPEN_READ)) != 0)
			goto out;
		rc = eakte_search(&s, a, &so);
	}
	if (rc < 0) {
		ex = cli_fail("search", rc);
		goto out;
	}
	if (a != NULL && eakte_archive_warning(a)[0])
		fprintf(stderr, "eakte search: warning: %s\n", eakte_archive_warning(a));
	if (json) {
		printf("%s\n", s);
	} else if ((o = json_loads(s, 0, NULL)) != NULL) {
		long long total = (long long)json_integer_value(json_object_get(o, "total"));
		size_t shown = json_array_size(json_object_get(o, "hits"));
		printf("%s%lld match%s", json_is_true(json_object_get(o, "total_exact")) ? "" : "more than ", total,
			total == 1 ? "" : "es");
		if (shown > 0)
			printf(", showing %zu-%zu", so.offset + 1, so.offset + shown);
		printf("\n");
		json_array_foreach(json_object_get(o, "hits"), i, h) {
			const char *snip = json_string_value(json_object_get(h, "snippet"));
			printf("\n%s  v%lld  %s  %s  %s\n  %s\n", json_string_value(json_object_get(h, "id")),
				(long long)json_integer_value(json_object_get(h, "version")),
				json_string_value(json_object_get(h, "date")), json_string_value(json_object_get(h, "akte")),
				json_string_value(json_object_get(h, "mime")), json_string_value(json_object_get(h, "title")));
			if (snip != NULL && snip[0])
				printf("  %s\n", snip);
		}
	}
	ex = fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
out:
	json_decref(o);
	eakte_free(s);
	eakte_archive_free(a);
	free(meta);
	free(qbuf);
	return ex;
}
