/* cmd_akte.c - eakte akte create|show|ls|close|reopen */
#include "source.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static const char help[] =
	"usage: eakte akte create --plan CODE [--title T] [--az AZ]\n"
	"       eakte akte create --vorgang AZ [--title T]\n"
	"       eakte akte show AZ [--json]\n"
	"       eakte akte ls [--plan CODE] [--open|--closed] [--json]\n"
	"       eakte akte close AZ [--date YYYY-MM-DD]\n"
	"       eakte akte reopen AZ\n"
	"\n"
	"Akten (files) under the Aktenplan.  Every change is a journal event.\n"
	"\n"
	"  create       a new Akte under plan CODE; without --az the Aktenzeichen is\n"
	"               generated as CODE-YEAR/SERIAL (serials are never reused).\n"
	"               Prints the Aktenzeichen.\n"
	"  create --vorgang AZ   a new Vorgang (case) in Akte AZ; prints its number\n"
	"  show         the Akte with its Vorgänge and documents\n"
	"  ls           Akten, optionally of one plan code, only open or only closed\n"
	"  close        zdA: nothing can be filed into it afterwards (default date: today)\n"
	"  reopen       reopen a closed Akte\n";

static void print_akte_line(const json_t *e)
{
	const json_t *closed = json_object_get(e, "closed_on");

	printf("%-28s %-12s %5lld docs  %s", json_string_value(json_object_get(e, "az")),
		json_string_value(json_object_get(e, "plan")), (long long)json_integer_value(json_object_get(e, "documents")),
		json_string_value(json_object_get(e, "title")));
	if (json_is_string(closed))
		printf("  [zdA %s]", json_string_value(closed));
	printf("\n");
}

int cmd_akte(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "plan", required_argument, NULL, 'p' },
		{ "title", required_argument, NULL, 't' },
		{ "az", required_argument, NULL, 'z' },
		{ "vorgang", required_argument, NULL, 'v' },
		{ "date", required_argument, NULL, 'd' },
		{ "open", no_argument, NULL, 'o' },
		{ "closed", no_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	eakte_akte_options ao = EAKTE_AKTE_OPTIONS_INIT;
	cli_src a = { NULL, NULL };
	const char *sub, *vorgang = NULL, *date = NULL;
	char *s = NULL;
	json_t *o = NULL, *e;
	size_t i;
	int c, rc, json = 0, state = 0, ex;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': ao.plan = optarg; break;
		case 't': ao.title = optarg; break;
		case 'z': ao.az = optarg; break;
		case 'v': vorgang = optarg; break;
		case 'd': date = optarg; break;
		case 'o':
		case 'c':
			if (state != 0)
				return cli_usage("akte", "give --open or --closed, not both");
			state = c == 'o' ? 1 : 2;
			break;
		case 'j': json = 1; break;
		case 'h': fputs(help, stdout); return EXIT_OK;
		default: return cli_usage("akte", "bad option");
		}
	}
	if (optind >= argc)
		return cli_usage("akte", "give create, show, ls, close or reopen");
	sub = argv[optind++];
	if (strcmp(sub, "create") == 0) {
		if (optind != argc)
			return cli_usage("akte", "create takes options only");
		if (vorgang == NULL && ao.plan == NULL)
			return cli_usage("akte", "create needs --plan CODE (or --vorgang AZ)");
		if (vorgang != NULL && (ao.plan != NULL || ao.az != NULL))
			return cli_usage("akte", "--vorgang AZ creates a Vorgang; --plan and --az do not apply");
		if ((ex = src_open(&a, ctx, "akte", EAKTE_OPEN_WRITE)) != 0)
			return ex;
		if (vorgang != NULL) {
			int64_t n;
			if ((rc = src_vorgang_create(&a, vorgang, ao.title, &n)) < 0) {
				ex = cli_fail("akte", rc);
				goto out;
			}
			printf("%lld\n", (long long)n);
		} else {
			char *az;
			if ((rc = src_akte_create(&a, &ao, &az)) < 0) {
				ex = cli_fail("akte", rc);
				goto out;
			}
			printf("%s\n", az);
			eakte_free(az);
		}
	} else if (strcmp(sub, "close") == 0 || strcmp(sub, "reopen") == 0) {
		if (optind + 1 != argc)
			return cli_usage("akte", "%s needs exactly one AZ", sub);
		if (sub[0] == 'r' && date != NULL)
			return cli_usage("akte", "reopen takes no --date");
		if ((ex = src_open(&a, ctx, "akte", EAKTE_OPEN_WRITE)) != 0)
			return ex;
		rc = sub[0] == 'c' ? src_akte_close(&a, argv[optind], date) : src_akte_reopen(&a, argv[optind]);
		if (rc < 0) {
			ex = cli_fail("akte", rc);
			goto out;
		}
	} else if (strcmp(sub, "show") == 0) {
		if (optind + 1 != argc)
			return cli_usage("akte", "show needs exactly one AZ");
		if ((ex = src_open(&a, ctx, "akte", EAKTE_OPEN_READ)) != 0)
			return ex;
		if ((rc = src_read(&a, "akte", argv[optind], 0, &s)) < 0) {
			ex = cli_fail("akte", rc);
			goto out;
		}
		if (json) {
			printf("%s\n", s);
		} else if ((o = json_loads(s, 0, NULL)) != NULL) {
			const json_t *closed = json_object_get(o, "closed_on");
			printf("Akte       %s\n", json_string_value(json_object_get(o, "az")));
			printf("Title      %s\n", json_string_value(json_object_get(o, "title")));
			printf("Aktenplan  %s %s\n", json_string_value(json_object_get(o, "plan")),
				json_string_value(json_object_get(o, "plan_title")) ? json_string_value(json_object_get(o, "plan_title")) : "");
			printf("Created    %s by %s (event %lld)\n", json_string_value(json_object_get(o, "created_at")),
				json_string_value(json_object_get(o, "actor")), (long long)json_integer_value(json_object_get(o, "created_seq")));
			printf("State      %s%s\n", json_is_string(closed) ? "closed (zdA) on " : "open",
				json_is_string(closed) ? json_string_value(closed) : "");
			if (json_is_object(json_object_get(o, "disposed"))) {
				const json_t *d = json_object_get(o, "disposed");
				printf("Disposed   of on %.10s by event %lld (proposal %lld by %s, approved by %s); its documents and "
					"descriptive metadata are no longer in the archive\n", json_string_value(json_object_get(d, "time")),
					(long long)json_integer_value(json_object_get(d, "seq")),
					(long long)json_integer_value(json_object_get(d, "proposal")),
					json_string_value(json_object_get(d, "proposed_by")), json_string_value(json_object_get(d, "actor")));
			}
			json_array_foreach(json_object_get(o, "vorgaenge"), i, e)
				printf("Vorgang    %lld  %s  (%lld documents)\n", (long long)json_integer_value(json_object_get(e, "vorgang")),
					json_string_value(json_object_get(e, "title")), (long long)json_integer_value(json_object_get(e, "documents")));
			json_array_foreach(json_object_get(o, "documents"), i, e)
				printf("Dokument   %s  v%lld  %s  %s\n", json_string_value(json_object_get(e, "id")),
					(long long)json_integer_value(json_object_get(e, "version")),
					json_string_value(json_object_get(e, "date")), json_string_value(json_object_get(e, "title")));
		}
	} else if (strcmp(sub, "ls") == 0) {
		if (optind != argc)
			return cli_usage("akte", "ls takes options only");
		if ((ex = src_open(&a, ctx, "akte", EAKTE_OPEN_READ)) != 0)
			return ex;
		if ((rc = src_read(&a, "akten", ao.plan, state, &s)) < 0) {
			ex = cli_fail("akte", rc);
			goto out;
		}
		if (json) {
			printf("%s\n", s);
		} else if ((o = json_loads(s, 0, NULL)) != NULL) {
			json_array_foreach(json_object_get(o, "akten"), i, e)
				print_akte_line(e);
		}
	} else {
		return cli_usage("akte", "unknown subcommand '%s' (create, show, ls, close, reopen)", sub);
	}
	ex = src_finish(&a, "akte");
out:
	json_decref(o);
	eakte_free(s);
	src_close(&a);
	return ex;
}
