/* cmd_retention.c - eakte retention show|set|due */
#include "source.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static const char help[] =
	"usage: eakte retention show AZ [--json]\n"
	"       eakte retention set AZ (--years N | --unbefristet) --reason TEXT\n"
	"       eakte retention due [--at YYYY-MM-DD] [--json]\n"
	"\n"
	"Retention (Aufbewahrungsfrist) of Akten.  An Akte keeps the retention of its\n"
	"Aktenplan code unless one was set on it.  Open Akten never expire; a closed\n"
	"Akte's retention ends on 31 December of (year of zdA + years) and it is due\n"
	"for disposal from the next 1 January on.\n"
	"\n"
	"  show   the end date and how it was derived\n"
	"  set    set the retention of the Akte (0-200 years or unbefristet), a journal\n"
	"         event; the reason is kept forever: no personal data\n"
	"  due    the Akten whose retention has ended before DATE (default today), with\n"
	"         their archival value (A/B/V), holds, exports and open proposals\n";

static void print_holds(const json_t *holds)
{
	const json_t *h;
	size_t i;

	if (json_array_size(holds) == 0) {
		printf("none");
		return;
	}
	json_array_foreach(holds, i, h) {
		const char *c = json_string_value(json_object_get(h, "case"));
		printf("%s%lld (%s%s%s)", i ? ", " : "", (long long)json_integer_value(json_object_get(h, "id")),
			json_string_value(json_object_get(h, "reason")), c ? ", case " : "", c ? c : "");
	}
}

static void retention_text(const json_t *r)
{
	if (json_is_string(r))
		printf("unbefristet");
	else
		printf("%lld years", (long long)json_integer_value(r));
}

static void print_show(const json_t *o)
{
	const json_t *set = json_object_get(o, "set"), *closed = json_object_get(o, "closed_on");
	const char *state = json_string_value(json_object_get(o, "state"));

	printf("Akte        %s\n", json_string_value(json_object_get(o, "az")));
	printf("Aktenplan   %s (archival value %s)\n", json_string_value(json_object_get(o, "plan")),
		json_string_value(json_object_get(o, "value")));
	printf("Retention   ");
	retention_text(json_object_get(o, "retention"));
	if (json_is_object(set)) {
		printf(", set by event %lld on %.10s by %s: %s\n", (long long)json_integer_value(json_object_get(set, "seq")),
			json_string_value(json_object_get(set, "time")), json_string_value(json_object_get(set, "actor")),
			json_string_value(json_object_get(set, "reason")));
		printf("            (Aktenplan code %s: ", json_string_value(json_object_get(o, "plan")));
		retention_text(json_object_get(o, "plan_retention"));
		printf(")\n");
	} else {
		printf(", from Aktenplan code %s\n", json_string_value(json_object_get(o, "plan")));
	}
	if (json_is_string(closed))
		printf("zdA         %s\n", json_string_value(closed));
	else
		printf("zdA         none: the Akte is open, and open Akten never expire\n");
	if (json_is_string(json_object_get(o, "end")))
		printf("Ends        %s (%d + %lld years); due for disposal from %s%s\n",
			json_string_value(json_object_get(o, "end")), atoi(json_string_value(closed)),
			(long long)json_integer_value(json_object_get(o, "retention")),
			json_string_value(json_object_get(o, "due_from")),
			json_is_true(json_object_get(o, "ended")) ? " (ended)" : "");
	else if (json_is_string(closed))
		printf("Ends        never (unbefristet)\n");
	printf("Holds       ");
	print_holds(json_object_get(o, "holds"));
	printf("\n");
	if (state != NULL && strcmp(state, "disposed") == 0)
		printf("State       disposed of by event %lld\n", (long long)json_integer_value(json_object_get(o, "disposed_by")));
}

static void print_due(const json_t *o)
{
	const json_t *e;
	size_t i;

	printf("Akten due for disposal at %s:\n", json_string_value(json_object_get(o, "at")));
	if (json_array_size(json_object_get(o, "akten")) == 0)
		printf("  none\n");
	json_array_foreach(json_object_get(o, "akten"), i, e) {
		const json_t *ex = json_object_get(e, "exports"), *pr = json_object_get(e, "proposals");
		printf("  %-28s value %s  zdA %s  ended %s  holds: ", json_string_value(json_object_get(e, "az")),
			json_string_value(json_object_get(e, "value")), json_string_value(json_object_get(e, "closed_on")),
			json_string_value(json_object_get(e, "end")));
		print_holds(json_object_get(e, "holds"));
		if (json_array_size(ex) > 0)
			printf("  exported (event %lld)", (long long)json_integer_value(json_object_get(json_array_get(ex,
				json_array_size(ex) - 1), "seq")));
		else if (strcmp(json_string_value(json_object_get(e, "value")), "V") != 0)
			printf("  not exported");
		if (json_array_size(pr) > 0)
			printf("  proposal %lld", (long long)json_integer_value(json_object_get(json_array_get(pr, 0), "id")));
		printf("\n");
	}
}

int cmd_retention(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "years", required_argument, NULL, 'y' },
		{ "unbefristet", no_argument, NULL, 'u' },
		{ "reason", required_argument, NULL, 'r' },
		{ "at", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cli_src a = { NULL, NULL };
	const char *sub, *reason = NULL, *at = NULL, *years_s = NULL;
	char *s = NULL;
	json_t *o = NULL;
	int c, rc, json = 0, unbefristet = 0, ex;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'y': years_s = optarg; break;
		case 'u': unbefristet = 1; break;
		case 'r': reason = optarg; break;
		case 't': at = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return cli_usage("retention", "bad option");
		}
	}
	if (optind >= argc)
		return cli_usage("retention", "give show, set or due");
	sub = argv[optind++];
	if (strcmp(sub, "set") == 0) {
		long years;
		char *end;
		if (optind + 1 != argc)
			return cli_usage("retention", "set needs exactly one AZ");
		if ((years_s == NULL) == !unbefristet)
			return cli_usage("retention", "set needs --years N or --unbefristet (one of them)");
		if (reason == NULL)
			return cli_usage("retention", "set needs --reason TEXT (kept in the journal; no personal data)");
		if (unbefristet || strcmp(years_s, "unbefristet") == 0) {
			years = EAKTE_RETENTION_UNBEFRISTET;
		} else {
			errno = 0;
			years = strtol(years_s, &end, 10);
			if (errno != 0 || end == years_s || *end != '\0' || years < 0 || years > 200)
				return cli_usage("retention", "--years takes 0 to 200 (or unbefristet), not \"%s\"", years_s);
		}
		if (at != NULL || json)
			return cli_usage("retention", "set takes no --at or --json");
		if ((ex = src_open(&a, ctx, "retention", EAKTE_OPEN_WRITE)) != 0)
			return ex;
		if ((rc = src_retention_set(&a, argv[optind], (int)years, reason)) < 0) {
			ex = cli_fail("retention", rc);
			goto out;
		}
	} else if (strcmp(sub, "show") == 0 || strcmp(sub, "due") == 0) {
		int show = sub[0] == 's';
		if (years_s != NULL || unbefristet || reason != NULL)
			return cli_usage("retention", "%s takes no --years, --unbefristet or --reason", sub);
		if (show && (optind + 1 != argc || at != NULL))
			return cli_usage("retention", "show needs exactly one AZ (and no --at)");
		if (!show && optind != argc)
			return cli_usage("retention", "due takes options only");
		if ((ex = src_open(&a, ctx, "retention", EAKTE_OPEN_READ)) != 0)
			return ex;
		if ((rc = src_read(&a, show ? "retention" : "retention-due", show ? argv[optind] : at, 0, &s)) < 0) {
			ex = cli_fail("retention", rc);
			goto out;
		}
		if (json)
			printf("%s\n", s);
		else if ((o = json_loads(s, 0, NULL)) == NULL) {
			ex = cli_oom("retention", "reading the answer");
			goto out;
		} else if (show)
			print_show(o);
		else
			print_due(o);
	} else {
		return cli_usage("retention", "unknown subcommand '%s' (show, set, due)", sub);
	}
	ex = src_finish(&a, "retention");
out:
	json_decref(o);
	eakte_free(s);
	src_close(&a);
	return ex;
}
