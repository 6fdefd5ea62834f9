/*
 * dconf.c - eakted's configuration; see dconf.h.
 */
#include "dconf.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

static const struct {
	const char *name;
	unsigned int bit;
} role_names[] = {
	{ "reader", ROLE_READER },
	{ "clerk", ROLE_CLERK },
	{ "auditor", ROLE_AUDITOR },
	{ "records", ROLE_RECORDS },
	{ "admin", ROLE_ADMIN },
};

void dconf_defaults(dconf *c)
{
	memset(c, 0, sizeof(*c));
	c->socket_mode = 0660;
	c->batch_max = 256;
	c->batch_wait_ms = 2;
	c->max_clients = 256;
	c->client_timeout_s = 300;
	c->request_max = 1u << 20;
}

void dconf_free(dconf *c)
{
	free(c->hotfolders);
	c->hotfolders = NULL;
	c->nhotfolders = 0;
}

static void hotfolder_defaults(dconf_hotfolder *h)
{
	memset(h, 0, sizeof(*h));
	h->sidecar_wait_s = 60;
	h->settle_ms = 2000;
	h->rescan_s = 300;
	h->zip_max_members = 1000;
	h->zip_max_bytes = 1ull << 30;
	h->zip_max_ratio = 100;
}

static int valid_hf_name(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len >= sizeof(((dconf_hotfolder *)0)->name))
		return 0;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '-' || *p == '.'))
			return 0;
	return 1;
}

/* The entry called `name`, created with defaults if new. */
static dconf_hotfolder *hotfolder_get(dconf *c, const char *name, char *err, size_t errlen)
{
	dconf_hotfolder *nh;

	for (size_t i = 0; i < c->nhotfolders; i++)
		if (strcmp(c->hotfolders[i].name, name) == 0)
			return &c->hotfolders[i];
	if (!valid_hf_name(name)) {
		snprintf(err, errlen, "hotfolder name \"%s\" must be 1-63 characters A-Z a-z 0-9 _ - .", name);
		return NULL;
	}
	if (c->nhotfolders == DCONF_MAX_HOTFOLDERS) {
		snprintf(err, errlen, "more than %d hotfolders", DCONF_MAX_HOTFOLDERS);
		return NULL;
	}
	nh = realloc(c->hotfolders, (c->nhotfolders + 1) * sizeof(*nh));
	if (nh == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->hotfolders = nh;
	hotfolder_defaults(&nh[c->nhotfolders]);
	snprintf(nh[c->nhotfolders].name, sizeof(nh[0].name), "%s", name);
	return &nh[c->nhotfolders++];
}

int dconf_add_hotfolder_flag(dconf *c, const char *arg, char *err, size_t errlen)
{
	char dir[4096], name[64];
	const char *eq = strchr(arg, '='), *base;
	size_t dlen = eq ? (size_t)(eq - arg) : strlen(arg);
	dconf_hotfolder *h;

	if (dlen == 0 || dlen >= sizeof(dir)) {
		snprintf(err, errlen, "--hotfolder needs DIR[=AKTENZEICHEN], not \"%s\"", arg);
		return -1;
	}
	memcpy(dir, arg, dlen);
	dir[dlen] = '\0';
	while (dlen > 1 && dir[dlen - 1] == '/')
		dir[--dlen] = '\0';
	base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	/* The name only appears in messages and the actor; make it unique. */
	snprintf(name, sizeof(name), "%.50s", base);
	for (char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '-' || *p == '.'))
			*p = '_';
	if (name[0] == '\0')
		snprintf(name, sizeof(name), "hotfolder");
	for (unsigned int k = 2; ; k++) {
		size_t i;
		for (i = 0; i < c->nhotfolders; i++)
			if (strcmp(c->hotfolders[i].name, name) == 0)
				break;
		if (i == c->nhotfolders)
			break;
		snprintf(name, sizeof(name), "%.50s-%u", base, k);
	}
	if ((h = hotfolder_get(c, name, err, errlen)) == NULL)
		return -1;
	snprintf(h->dir, sizeof(h->dir), "%s", dir);
	if (eq != NULL && strlen(eq + 1) >= sizeof(h->akte)) {
		snprintf(err, errlen, "--hotfolder %s: Aktenzeichen too long", dir);
		return -1;
	}
	snprintf(h->akte, sizeof(h->akte), "%s", eq && eq[1] ? eq + 1 : "sidecar");
	h->from_flag = 1;
	return 0;
}

int dconf_keep_flag_hotfolders(dconf *to, const dconf *from, char *err, size_t errlen)
{
	for (size_t i = 0; i < from->nhotfolders; i++) {
		dconf_hotfolder *h;
		if (!from->hotfolders[i].from_flag)
			continue;
		if ((h = hotfolder_get(to, from->hotfolders[i].name, err, errlen)) == NULL)
			return -1;
		*h = from->hotfolders[i];
	}
	return 0;
}

static int parse_ull(unsigned long long *out, const char *v, unsigned long long min, unsigned long long max)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || x < min || x > max || v[0] == '-')
		return -1;
	*out = x;
	return 0;
}

static int hotfolder_key(dconf *c, const char *name, const char *key, const char *value,
	char *err, size_t errlen)
{
	dconf_hotfolder *h = hotfolder_get(c, name, err, errlen);
	unsigned long long u;

	if (h == NULL)
		return -1;
#define HSTR(field) do { \
		if (strlen(value) >= sizeof(h->field)) { \
			snprintf(err, errlen, "%s is too long", key); \
			return -1; \
		} \
		snprintf(h->field, sizeof(h->field), "%s", value); \
		return 0; \
	} while (0)
#define HNUM(field, min, max) do { \
		if (parse_ull(&u, value, min, max) < 0) { \
			snprintf(err, errlen, "%s must be a number from %llu to %llu, not \"%s\"", \
				key, (unsigned long long)(min), (unsigned long long)(max), value); \
			return -1; \
		} \
		h->field = u; \
		return 0; \
	} while (0)
	if (strcmp(key, "dir") == 0) HSTR(dir);
	if (strcmp(key, "akte") == 0) HSTR(akte);
	if (strcmp(key, "done") == 0) HSTR(done_dir);
	if (strcmp(key, "error") == 0) HSTR(error_dir);
	if (strcmp(key, "vorgang") == 0) HNUM(vorgang, 1, 1000000000ull);
	if (strcmp(key, "sidecar_wait") == 0) HNUM(sidecar_wait_s, 0, 86400);
	if (strcmp(key, "settle_ms") == 0) HNUM(settle_ms, 0, 600000);
	if (strcmp(key, "rescan_interval") == 0) HNUM(rescan_s, 0, 86400);
	if (strcmp(key, "zip_max_members") == 0) HNUM(zip_max_members, 1, 100000);
	if (strcmp(key, "zip_max_bytes") == 0) HNUM(zip_max_bytes, 1, 1ull << 40);
	if (strcmp(key, "zip_max_ratio") == 0) HNUM(zip_max_ratio, 1, 100000);
#undef HSTR
#undef HNUM
	if (strcmp(key, "meta") == 0) {
		const char *eq = strchr(value, '=');
		if (eq == NULL || eq == value) {
			snprintf(err, errlen, "meta must be KEY=VALUE, not \"%s\"", value);
			return -1;
		}
		if (h->nmeta == DCONF_HF_MAX_META || strlen(value) >= sizeof(h->meta[0])) {
			snprintf(err, errlen, "at most %d meta entries of up to %zu bytes", DCONF_HF_MAX_META,
				sizeof(h->meta[0]) - 1);
			return -1;
		}
		snprintf(h->meta[h->nmeta++], sizeof(h->meta[0]), "%s", value);
		return 0;
	}
	if (strcmp(key, "after_filing") == 0) {
		if (strcmp(value, "move") != 0 && strcmp(value, "remove") != 0) {
			snprintf(err, errlen, "after_filing must be move or remove, not \"%s\"", value);
			return -1;
		}
		h->remove_done = strcmp(value, "remove") == 0;
		return 0;
	}
	if (strcmp(key, "sidecar") == 0) {
		if (strcmp(value, "optional") != 0 && strcmp(value, "required") != 0) {
			snprintf(err, errlen, "sidecar must be optional or required, not \"%s\"", value);
			return -1;
		}
		h->sidecar_required = strcmp(value, "required") == 0;
		return 0;
	}
	snprintf(err, errlen, "unknown key \"%s\" in [hotfolder %s] (see packaging/eakted.conf.example)", key, name);
	return -1;
}

int dconf_add_role(dconf *c, const char *group, const char *roles, char *err, size_t errlen)
{
	unsigned int bits = 0;
	const char *s = roles;

	if (group[0] == '\0' || strlen(group) >= sizeof(c->roles[0].group)) {
		snprintf(err, errlen, "\"%s\" is not a Unix group name", group);
		return -1;
	}
	while (*s) {
		size_t n, i;
		while (*s == ' ' || *s == ',')
			s++;
		n = strcspn(s, " ,");
		if (n == 0)
			break;
		for (i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
			if (strlen(role_names[i].name) == n && strncmp(s, role_names[i].name, n) == 0)
				break;
		if (i == sizeof(role_names) / sizeof(role_names[0])) {
			snprintf(err, errlen, "unknown role \"%.*s\" for group %s (roles: reader, clerk, auditor, records, admin)",
				(int)n, s, group);
			return -1;
		}
		bits |= role_names[i].bit;
		s += n;
	}
	if (bits == 0) {
		snprintf(err, errlen, "no role given for group %s", group);
		return -1;
	}
	for (size_t i = 0; i < c->nroles; i++)
		if (strcmp(c->roles[i].group, group) == 0) {
			c->roles[i].roles = bits;   /* a later setting (a flag) wins */
			return 0;
		}
	if (c->nroles == DCONF_MAX_ROLES) {
		snprintf(err, errlen, "more than %d role entries", DCONF_MAX_ROLES);
		return -1;
	}
	snprintf(c->roles[c->nroles].group, sizeof(c->roles[0].group), "%s", group);
	c->roles[c->nroles++].roles = bits;
	return 0;
}

static int parse_uint(unsigned long *out, const char *v, unsigned long min, unsigned long max, int base)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(v, &end, base);
	if (errno != 0 || end == v || *end != '\0' || x < min || x > max || v[0] == '-')
		return -1;
	*out = x;
	return 0;
}

typedef struct {
	dconf *c;
	char error[512];
} load_ctx;

static int on_key(void *user, const char *section, const char *key, const char *value)
{
	load_ctx *l = user;
	dconf *c = l->c;
	unsigned long u;
	char err[300];

#define STR(field) do { \
		if (strlen(value) >= sizeof(c->field)) { \
			snprintf(l->error, sizeof(l->error), "%s is too long", key); \
			return 0; \
		} \
		snprintf(c->field, sizeof(c->field), "%s", value); \
		return 1; \
	} while (0)
#define NUM(field, min, max) do { \
		if (parse_uint(&u, value, min, max, 10) < 0) { \
			snprintf(l->error, sizeof(l->error), "%s must be a number from %lu to %lu, not \"%s\"", \
				key, (unsigned long)(min), (unsigned long)(max), value); \
			return 0; \
		} \
		c->field = u; \
		return 1; \
	} while (0)

	if (strcmp(section, "daemon") == 0) {
		if (strcmp(key, "archive") == 0) STR(archive);
		if (strcmp(key, "socket") == 0) STR(socket);
		if (strcmp(key, "socket_group") == 0) STR(socket_group);
		if (strcmp(key, "user") == 0) STR(user);
		if (strcmp(key, "socket_mode") == 0) {
			if (parse_uint(&u, value, 0, 0777, 8) < 0) {
				snprintf(l->error, sizeof(l->error), "socket_mode must be octal like 0660");
				return 0;
			}
			c->socket_mode = (mode_t)u;
			return 1;
		}
		if (strcmp(key, "batch_max") == 0) NUM(batch_max, 1, 10000);
		if (strcmp(key, "batch_wait_ms") == 0) NUM(batch_wait_ms, 0, 1000);
		if (strcmp(key, "max_clients") == 0) NUM(max_clients, 1, 10000);
		if (strcmp(key, "client_timeout") == 0) NUM(client_timeout_s, 1, 86400);
		if (strcmp(key, "request_max") == 0) NUM(request_max, 4096, 64ul << 20);
	} else if (strncmp(section, "hotfolder ", 10) == 0) {
		if (hotfolder_key(c, section + 10, key, value, err, sizeof(err)) < 0) {
			snprintf(l->error, sizeof(l->error), "%s", err);
			return 0;
		}
		return 1;
	} else if (strcmp(section, "roles") == 0) {
		if (dconf_add_role(c, key, value, err, sizeof(err)) < 0) {
			snprintf(l->error, sizeof(l->error), "%s", err);
			return 0;
		}
		return 1;
	}
	snprintf(l->error, sizeof(l->error), "unknown key \"%s\" in [%s] (see packaging/eakted.conf.example)",
		key, section);
	return 0;
#undef STR
#undef NUM
}

int dconf_load(dconf *c, const char *file, char *err, size_t errlen)
{
	load_ctx l = { c, "" };
	int rc;

	snprintf(c->path, sizeof(c->path), "%s", file);
	rc = ini_parse(file, on_key, &l);
	if (rc == -1) {
		snprintf(err, errlen, "%s: cannot open: %s", file, strerror(errno));
		return -1;
	}
	if (rc != 0) {
		if (l.error[0])
			snprintf(err, errlen, "%s: line %d: %s", file, rc, l.error);
		else
			snprintf(err, errlen, "%s: line %d: not INI syntax (expected [section] or key = value)", file, rc);
		return -1;
	}
	return 0;
}

int dconf_check(const dconf *c, char *err, size_t errlen)
{
	if (c->archive[0] == '\0') {
		snprintf(err, errlen, "no archive given (archive = DIR in [daemon], or --archive DIR)");
		return -1;
	}
	if (c->socket[0] == '\0') {
		snprintf(err, errlen, "no socket given (socket = PATH in [daemon], or --socket PATH)");
		return -1;
	}
	if (c->user[0] && getpwnam(c->user) == NULL) {
		snprintf(err, errlen, "user \"%s\" does not exist (create it: packaging/eakted.sysusers)", c->user);
		return -1;
	}
	if (c->socket_group[0] && getgrnam(c->socket_group) == NULL) {
		snprintf(err, errlen, "socket_group \"%s\" does not exist", c->socket_group);
		return -1;
	}
	for (size_t i = 0; i < c->nhotfolders; i++) {
		const dconf_hotfolder *h = &c->hotfolders[i];
		if (h->dir[0] != '/') {
			snprintf(err, errlen, "[hotfolder %s]: dir must be an absolute path (dir = /srv/scan/NAME)", h->name);
			return -1;
		}
		if (h->akte[0] == '\0') {
			snprintf(err, errlen, "[hotfolder %s]: no akte given (an Aktenzeichen, or \"sidecar\")", h->name);
			return -1;
		}
		if ((h->done_dir[0] && h->done_dir[0] != '/') || (h->error_dir[0] && h->error_dir[0] != '/')) {
			snprintf(err, errlen, "[hotfolder %s]: done and error must be absolute paths", h->name);
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(h->dir, c->hotfolders[j].dir) == 0) {
				snprintf(err, errlen, "hotfolders %s and %s watch the same directory %s",
					c->hotfolders[j].name, h->name, h->dir);
				return -1;
			}
	}
	return 0;
}

unsigned int dconf_roles_of(const dconf *c, uid_t uid, char *name, size_t namelen)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];
	gid_t groups[256];
	int ngroups = 256;
	unsigned int roles = 0;

	snprintf(name, namelen, "uid:%u", (unsigned)uid);
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL)
		return 0;
	snprintf(name, namelen, "%s", pw.pw_name);
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &ngroups) < 0)
		ngroups = 256;   /* more groups than that: the first 256 count */
	for (int i = 0; i < ngroups; i++) {
		struct group gr, *grp = NULL;
		char gbuf[16384];
		if (getgrgid_r(groups[i], &gr, gbuf, sizeof(gbuf), &grp) != 0 || grp == NULL)
			continue;
		for (size_t j = 0; j < c->nroles; j++)
			if (strcmp(c->roles[j].group, grp->gr_name) == 0)
				roles |= c->roles[j].roles;
	}
	return roles;
}

void dconf_role_names(unsigned int roles, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (roles & role_names[i].bit) {
			int n = snprintf(out + used, len - used, "%s%s", used ? "," : "", role_names[i].name);
			if (n < 0 || (size_t)n >= len - used)
				break;
			used += (size_t)n;
		}
	if (used == 0)
		snprintf(out, len, "none");
}
