/* cmd_dispose.c - eakte dispose propose|approve|ls */
#include "source.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static const char help[] =
	"usage: eakte dispose propose AZ --reason TEXT\n"
	"       eakte dispose approve PROPOSAL\n"
	"       eakte dispose ls [--json]\n"
	"\n"
	"Disposal (Aussonderung, Vernichtung) under the four-eyes principle: one person\n"
	"proposes, a different person approves.  Refused (exit 4, with the reason) while\n"
	"the Akte is open, before its retention has ended, under a legal hold, for\n"
	"archival value A or B before an export after its zdA, and when the approver\n"
	"is the proposer.  Approval removes the content and descriptive metadata of\n"
	"every version of every document of the Akte, and the Akte's and Vorgänge's\n"
	"metadata, from store.git and the index; the journal keeps the dispose event\n"
	"(the Löschprotokoll) with the hashes of everything removed.\n"
	"\n"
	"  propose  propose the disposal; prints the proposal's id\n"
	"  approve  approve proposal PROPOSAL and dispose of the Akte; prints the\n"
	"           dispose event's seq\n"
	"  ls       open proposals\n";

int cmd_dispose(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cli_src a = { NULL, NULL };
	const char *sub, *reason = NULL;
	char *s = NULL;
	json_t *o = NULL, *e;
	size_t i;
	int c, rc, json = 0, ex;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': reason = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return cli_usage("dispose", "bad option");
		}
	}
	if (optind >= argc)
		return cli_usage("dispose", "give propose, approve or ls");
	sub = argv[optind++];
	if (strcmp(sub, "propose") == 0) {
		uint64_t id = 0;
		if (optind + 1 != argc || reason == NULL || json)
			return cli_usage("dispose", "propose needs exactly one AZ and --reason TEXT");
		if ((ex = src_open(&a, ctx, "dispose", EAKTE_OPEN_WRITE)) != 0)
			return ex;
		if ((rc = src_dispose_propose(&a, argv[optind], reason, &id)) < 0) {
			ex = cli_fail("dispose", rc);
			goto out;
		}
		printf("%" PRIu64 "\n", id);
	} else if (strcmp(sub, "approve") == 0) {
		unsigned long long id;
		uint64_t seq = 0;
		char *end;
		if (optind + 1 != argc || json)
			return cli_usage("dispose", "approve needs exactly one PROPOSAL (its id, see `eakte dispose ls`)");
		if (reason != NULL)
			return cli_usage("dispose", "approve takes no --reason: the dispose event records the proposal's reason");
		errno = 0;
		id = strtoull(argv[optind], &end, 10);
		if (errno != 0 || end == argv[optind] || *end != '\0' || argv[optind][0] == '-')
			return cli_usage("dispose", "PROPOSAL is a proposal's id (a number), not \"%s\"", argv[optind]);
		if ((ex = src_open(&a, ctx, "dispose", EAKTE_OPEN_WRITE)) != 0)
			return ex;
		if ((rc = src_dispose_approve(&a, (uint64_t)id, &seq)) < 0) {
			ex = cli_fail("dispose", rc);
			goto out;
		}
		printf("%" PRIu64 "\n", seq);
	} else if (strcmp(sub, "ls") == 0) {
		if (optind != argc || reason != NULL)
			return cli_usage("dispose", "ls takes only --json");
		if ((ex = src_open(&a, ctx, "dispose", EAKTE_OPEN_READ)) != 0)
			return ex;
		if ((rc = src_read(&a, "proposals", NULL, 0, &s)) < 0) {
			ex = cli_fail("dispose", rc);
			goto out;
		}
		if (json) {
			printf("%s\n", s);
		} else if ((o = json_loads(s, 0, NULL)) == NULL) {
			ex = cli_oom("dispose", "reading the answer");
			goto out;
		} else {
			json_array_foreach(json_object_get(o, "proposals"), i, e)
				printf("%-6lld %-28s %s by %s: %s%s\n", (long long)json_integer_value(json_object_get(e, "id")),
					json_string_value(json_object_get(e, "akte")), json_string_value(json_object_get(e, "time")),
					json_string_value(json_object_get(e, "actor")), json_string_value(json_object_get(e, "reason")),
					json_is_true(json_object_get(e, "stale")) ? " [stale: the Akte was closed or reopened since]" : "");
		}
	} else {
		return cli_usage("dispose", "unknown subcommand '%s' (propose, approve, ls)", sub);
	}
	ex = src_finish(&a, "dispose");
out:
	json_decref(o);
	eakte_free(s);
	src_close(&a);
	return ex;
}
