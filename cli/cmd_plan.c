/* cmd_plan.c - eakte plan import FILE | plan show CODE | plan ls [--json] */
#include "source.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static const char help[] =
	"usage: eakte plan import FILE\n"
	"       eakte plan show CODE [--json]\n"
	"       eakte plan ls [--json]\n"
	"\n"
	"The Aktenplan (file plan): hierarchical codes with a title, a retention period\n"
	"(years or \"unbefristet\") and an archival value (A, B or V).\n"
	"\n"
	"  import FILE  import entries from a CSV or JSON file (docs/aktenplan.md;\n"
	"               \"-\" reads standard input); one journal event; existing codes\n"
	"               are updated.  A malformed file is refused naming line and field.\n"
	"  show CODE    one entry with its sub-codes and Akten\n"
	"  ls           every entry\n"
	"  --json       JSON output (schema/plan-v1.schema.json)\n";

#define PLAN_FILE_MAX (16u << 20)

/* Print s left-aligned in `width` columns, counting characters, not bytes
 * (titles have umlauts). */
static void print_padded(const char *s, int width)
{
	int n = 0;

	for (const char *p = s; *p; p++)
		n += ((unsigned char)*p & 0xc0) != 0x80;
	fputs(s, stdout);
	for (; n < width; n++)
		putchar(' ');
	putchar(' ');
}

static void print_entry(const json_t *e, int indent)
{
	const json_t *r = json_object_get(e, "retention");
	char ret[32];


	if (json_is_integer(r))
		snprintf(ret, sizeof(ret), "%lld %s", (long long)json_integer_value(r),
			json_integer_value(r) == 1 ? "Jahr" : "Jahre");
	else
		snprintf(ret, sizeof(ret), "%s", json_string_value(r) ? json_string_value(r) : "?");
	long long akten = (long long)json_integer_value(json_object_get(e, "akten"));

	printf("%*s", indent, "");
	print_padded(json_string_value(json_object_get(e, "code")), 14 - indent > 8 ? 14 - indent : 8);
	print_padded(json_string_value(json_object_get(e, "title")), 40);
	print_padded(ret, 12);
	printf("%s  %lld %s\n", json_string_value(json_object_get(e, "value")), akten, akten == 1 ? "Akte" : "Akten");
}

int cmd_plan(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cli_src a = { NULL, NULL };
	const char *sub;
	char *s = NULL, *buf = NULL;
	json_t *o = NULL, *e;
	size_t len, n, i;
	int c, rc, json = 0, ex;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return cli_usage("plan", "bad option");
		}
	}
	if (optind >= argc)
		return cli_usage("plan", "give import, show or ls");
	sub = argv[optind++];
	if (strcmp(sub, "import") == 0) {
		if (optind + 1 != argc)
			return cli_usage("plan", "import needs exactly one FILE");
		if ((ex = cli_read_file(&buf, &len, argv[optind], PLAN_FILE_MAX, "plan")) != 0)
			return ex;
		if ((ex = src_open(&a, ctx, "plan", EAKTE_OPEN_WRITE)) != 0)
			goto out;
		if ((rc = src_plan_import(&a, buf, len, argv[optind], &n)) < 0) {
			ex = cli_fail("plan", rc);
			goto out;
		}
		printf("%zu Aktenplan entries imported\n", n);
		if (src_warning(&a)[0])
			fprintf(stderr, "eakte plan: warning: %s\n", src_warning(&a));
	} else if (strcmp(sub, "show") == 0 || strcmp(sub, "ls") == 0) {
		int show = sub[0] == 's';
		if (optind + (show ? 1 : 0) != argc)
			return cli_usage("plan", show ? "show needs exactly one CODE" : "ls takes no argument");
		if ((ex = src_open(&a, ctx, "plan", EAKTE_OPEN_READ)) != 0)
			goto out;
		if ((rc = src_read(&a, "plan", show ? argv[optind] : NULL, 0, &s)) < 0) {
			ex = cli_fail("plan", rc);
			goto out;
		}
		if (json) {
			printf("%s\n", s);
		} else if ((o = json_loads(s, 0, NULL)) != NULL) {
			if (!show) {
				json_array_foreach(json_object_get(o, "entries"), i, e) {
					const char *code = json_string_value(json_object_get(e, "code"));
					int depth = 0;
					for (const char *p = code; *p; p++)
						depth += *p == '.';
					print_entry(e, 2 * depth);
				}
			} else {
				print_entry(o, 0);
				if (json_string_value(json_object_get(o, "parent")))
					printf("  parent: %s\n", json_string_value(json_object_get(o, "parent")));
				json_array_foreach(json_object_get(o, "children"), i, e)
					print_entry(e, 2);
				json_array_foreach(json_object_get(o, "akten_list"), i, e)
					printf("  Akte %s  %s%s%s\n", json_string_value(json_object_get(e, "az")),
						json_string_value(json_object_get(e, "title")),
						json_is_string(json_object_get(e, "closed_on")) ? "  zdA " : "",
						json_is_string(json_object_get(e, "closed_on")) ? json_string_value(json_object_get(e, "closed_on")) : "");
			}
		}
	} else {
		return cli_usage("plan", "unknown subcommand '%s' (import, show, ls)", sub);
	}
	ex = fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
out:
	json_decref(o);
	eakte_free(s);
	free(buf);
	src_close(&a);
	return ex;
}
