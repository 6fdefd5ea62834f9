/*
 * dconf.h - eakted's configuration: an INI file (inih) and command-line
 * flags that override it.  Every key is documented in
 * packaging/eakted.conf.example.
 */
#ifndef EAKTED_DCONF_H
#define EAKTED_DCONF_H

#include <stddef.h>
#include <sys/types.h>

/* Roles (docs/daemon.md): each a set of operations. */
enum {
	ROLE_READER = 1 << 0,   /* search, show, get */
	ROLE_CLERK = 1 << 1,    /* reader + file, new versions, metadata, Akten */
	ROLE_AUDITOR = 1 << 2,  /* reader + log, verify, proof, export */
	ROLE_RECORDS = 1 << 3,  /* clerk + retention, holds, disposal */
	ROLE_ADMIN = 1 << 4     /* everything, including the Aktenplan */
};

#define DCONF_MAX_ROLES 64
#define DCONF_MAX_HOTFOLDERS 256
#define DCONF_HF_MAX_META 32

/* One scanner hotfolder: [hotfolder NAME] or --hotfolder DIR[=AZ]. */
typedef struct {
	char name[64];
	char dir[4096];
	char akte[257];              /* an Aktenzeichen, or "sidecar" */
	long long vorgang;           /* 0: none */
	char meta[DCONF_HF_MAX_META][512];   /* default "KEY=VALUE" */
	size_t nmeta;
	char done_dir[4096];         /* "" : DIR/done */
	char error_dir[4096];        /* "" : DIR/error */
	int remove_done;             /* after_filing = remove */
	int sidecar_required;        /* sidecar = required (always with akte = sidecar) */
	unsigned int sidecar_wait_s;
	unsigned int settle_ms;
	unsigned int rescan_s;       /* 0: only at start and after an overflow */
	unsigned int zip_max_members;
	unsigned long long zip_max_bytes;
	unsigned int zip_max_ratio;
	int from_flag;               /* given with --hotfolder: kept over SIGHUP */
} dconf_hotfolder;

typedef struct {
	char group[64];
	unsigned int roles;
} dconf_role;

typedef struct {
	char archive[4096];
	char socket[108];
	mode_t socket_mode;
	char socket_group[64];   /* "" : the daemon's group */
	char user[64];           /* "" : do not change user */
	unsigned int batch_max;      /* documents per group commit */
	unsigned int batch_wait_ms;  /* how long a commit waits for more */
	unsigned int max_clients;
	unsigned int client_timeout_s;
	size_t request_max;
	dconf_role roles[DCONF_MAX_ROLES];
	size_t nroles;
	char path[4096];         /* the config file, "" if none */
	dconf_hotfolder *hotfolders;   /* malloc'd; dconf_free() */
	size_t nhotfolders;
} dconf;

void dconf_defaults(dconf *c);

/* Free what dconf_load() and dconf_add_hotfolder() allocated. */
void dconf_free(dconf *c);

/* "DIR[=AZ]" as given to --hotfolder (no AZ: the Akte comes from sidecars). */
int dconf_add_hotfolder_flag(dconf *c, const char *arg, char *err, size_t errlen);

/* Copy the hotfolders of `from` given by flags into `to` (for SIGHUP). */
int dconf_keep_flag_hotfolders(dconf *to, const dconf *from, char *err, size_t errlen);

/* Read FILE into c.  On error returns -1 with a message naming the line. */
int dconf_load(dconf *c, const char *file, char *err, size_t errlen);

/* "GROUP=ROLE[,ROLE...]" as given to --role or in [roles]. */
int dconf_add_role(dconf *c, const char *group, const char *roles, char *err, size_t errlen);

/* Everything required is there and consistent. */
int dconf_check(const dconf *c, char *err, size_t errlen);

/* The roles the Unix user `uid` has through its groups; its name in `name`. */
unsigned int dconf_roles_of(const dconf *c, uid_t uid, char *name, size_t namelen);

/* "reader,clerk" for a role set. */
void dconf_role_names(unsigned int roles, char *out, size_t len);

#endif
