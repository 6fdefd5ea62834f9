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
