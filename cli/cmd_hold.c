/* cmd_hold.c - eakte hold set|release|ls */
#include "source.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static const char help[] =
	"usage: eakte hold set AZ --reason TEXT [--case ID]\n"
	"       eakte hold release AZ --hold ID --reason TEXT\n"
	"       eakte hold ls [AZ] [--all] [--json]\n"
	"\n"
	"Legal holds (Löschsperren).  An Akte may have several; any active hold blocks\n"
	"its disposal.  Every change is a journal event; reasons are kept forever:\n"
	"no personal data.\n"
	"\n"
	"  set      put a hold on the Akte; prints the hold's id\n"
	"  release  release hold ID of the Akte\n"
	"  ls       active holds (of one Akte; --all: released ones too)\n";

int cmd_hold(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "case", required_argument, NULL, 'c' },
		{ "hold", required_argument, NULL, 'i' },
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cli_src a = { NULL, NULL };
	const char *sub, *reason = NULL, *case_id = NULL, *hold_s = NULL;
	char *s = NULL;
	json_t *o = NULL, *e;
	size_t i;
	int c, rc, json = 0, all = 0, ex;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': reason = optarg; break;
		case 'c': case_id = optarg; break;
		case 'i': hold_s = optarg; break;
		case 'a': all = 1; break;
		case 'j': json = 1; break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return cli_usage("hold", "bad option");
		}
	}
	if (optind >= argc)
		return cli_usage("hold", "give set, release or ls");
	sub = argv[optind++];
	if (strcmp(sub, "set") == 0) {
		uint64_t id = 0;
		if (optind + 1 != argc || reason == NULL)
			return cli_usage("hold", "set needs exactly one AZ and --reason TEXT");
		if (hold_s != NULL || all || json)
			return cli_usage("hold", "set takes only --reason and --case");
		if ((ex = src_open(&a, ctx, "hold", EAKTE_OPEN_WRITE)) != 0)
			return ex;
		if ((rc = src_hold_set(&a, argv[optind], reason, case_id, &id)) < 0) {
			ex = cli_fail("hold", rc);
			goto out;
		}
		printf("%" PRIu64 "\n", id);
	} else if (strcmp(sub, "release") == 0) {
		unsigned long long id;
		char *end;
		if (optind + 1 != argc || reason == NULL || hold_s == NULL)
			return cli_usage("hold", "release needs exactly one AZ, --hold ID and --reason TEXT");
		if (case_id != NULL || all || json)
			return cli_usage("hold", "release takes only --hold and --reason");
		errno = 0;
		id = strtoull(hold_s, &end, 10);
		if (errno != 0 || end == hold_s || *end != '\0' || hold_s[0] == '-')
			return cli_usage("hold", "--hold takes the hold's id (a number, see `eakte hold ls`), not \"%s\"", hold_s);
		if ((ex = src_open(&a, ctx, "hold", EAKTE_OPEN_WRITE)) != 0)
			return ex;
		if ((rc = src_hold_release(&a, argv[optind], (uint64_t)id, reason)) < 0) {
			ex = cli_fail("hold", rc);
			goto out;
		}
	} else if (strcmp(sub, "ls") == 0) {
		if (optind + 1 < argc)
			return cli_usage("hold", "ls takes at most one AZ");
		if (reason != NULL || case_id != NULL || hold_s != NULL)
			return cli_usage("hold", "ls takes only AZ, --all and --json");
		if ((ex = src_open(&a, ctx, "hold", EAKTE_OPEN_READ)) != 0)
			return ex;
		if ((rc = src_read(&a, "holds", optind < argc ? argv[optind] : NULL, all, &s)) < 0) {
			ex = cli_fail("hold", rc);
			goto out;
		}
		if (json) {
			printf("%s\n", s);
		} else if ((o = json_loads(s, 0, NULL)) == NULL) {
			ex = cli_oom("hold", "reading the answer");
			goto out;
		} else {
			json_array_foreach(json_object_get(o, "holds"), i, e) {
				const char *cs = json_string_value(json_object_get(e, "case"));
				printf("%-6lld %-28s %s by %s: %s", (long long)json_integer_value(json_object_get(e, "id")),
					json_string_value(json_object_get(e, "akte")), json_string_value(json_object_get(e, "time")),
					json_string_value(json_object_get(e, "actor")), json_string_value(json_object_get(e, "reason")));
				if (cs)
					printf(" [case %s]", cs);
				if (json_is_integer(json_object_get(e, "released_seq")))
					printf(" [released by event %lld: %s]", (long long)json_integer_value(json_object_get(e, "released_seq")),
						json_string_value(json_object_get(e, "release_reason")));
				printf("\n");
			}
		}
	} else {
		return cli_usage("hold", "unknown subcommand '%s' (set, release, ls)", sub);
	}
	ex = src_finish(&a, "hold");
out:
	json_decref(o);
	eakte_free(s);
	src_close(&a);
	return ex;
}
