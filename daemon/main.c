/*
 * main.c - eakted, the archive's single writer for many users.
 *
 *   eakted --config FILE [--check-config]
 *   eakted --archive DIR --socket PATH [--role GROUP=ROLE]... [--hotfolder DIR[=AZ]]...
 *
 * Start-up in this order: configuration, socket, archive (taking its
 * writer lock), privilege drop, writer thread, hotfolder threads (they
 * file through the writer), READY=1.  SIGTERM stops the hotfolders (a
 * file being filed finishes), stops accepting, lets the requests in
 * flight finish and exits; SIGHUP re-reads the roles and the hotfolders
 * from the configuration file.
 */
#include "dconf.h"
#include "hotfolder.h"
#include "serve.h"
#include "writer.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <eakte/eakte.h>
#include <systemd/sd-daemon.h>

static const char usage[] =
	"usage: eakted --config FILE [--check-config]\n"
	"       eakted --archive DIR --socket PATH [--role GROUP=ROLE[,ROLE]]...\n"
	"\n"
	"The archive's daemon: the single writer for many users, over a Unix socket.\n"
	"Flags override the configuration file.  See eakted(8).\n"
	"\n"
	"  --config FILE       configuration (INI; packaging/eakted.conf.example)\n"
	"  --check-config      check the configuration and exit (0 if good)\n"
	"  --archive DIR       the archive (created with `eakte init`)\n"
	"  --socket PATH       where to listen\n"
	"  --role GROUP=ROLES  give the members of a Unix group roles:\n"
	"                      reader, clerk, auditor, records, admin\n"
	"  --hotfolder DIR[=AZ]  watch DIR and file what is put there into Akte AZ\n"
	"                      (no AZ: the Akte comes from each file's sidecar)\n";

static dconf conf;
static hotfolders *hfs;
static pthread_rwlock_t conf_lock = PTHREAD_RWLOCK_INITIALIZER;

/* Open connections, so that SIGTERM can end the idle ones. */
static pthread_mutex_t conns_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conns_cv = PTHREAD_COND_INITIALIZER;
static int *conns;
static size_t nconns;
static writer *conns_writer;   /* told of every connection (group commit) */

typedef struct {
	serve_ctx *ctx;
	int fd;
} conn_arg;

static void conn_remove(int fd)
{
	pthread_mutex_lock(&conns_mu);
	for (size_t i = 0; i < nconns; i++)
		if (conns[i] == fd) {
			conns[i] = conns[--nconns];
			writer_clients(conns_writer, -1);
			break;
		}
	pthread_cond_broadcast(&conns_cv);
	pthread_mutex_unlock(&conns_mu);
}

static void *conn_thread(void *p)
{
	conn_arg *a = p;
	int fd = a->fd;

	serve_connection(a->ctx, fd);   /* closes fd */
	free(a);
	conn_remove(fd);
	return NULL;
}

static int listen_on(const char *path, mode_t mode, const char *group)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "eakted: cannot create a socket: %s\n", strerror(errno));
		return -1;
	}
	/* A socket left by a daemon that stopped is replaced; a live one or
	 * any other file is not. */
	if (lstat(path, &st) == 0) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int live = probe >= 0 && S_ISSOCK(st.st_mode) && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		if (probe >= 0)
			close(probe);
		if (!S_ISSOCK(st.st_mode) || live) {
			fprintf(stderr, "eakted: %s %s; is another eakted running?\n", path,
				live ? "is in use" : "exists and is not a socket");
			close(fd);
			return -1;
		}
		unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(path, mode) != 0) {
		fprintf(stderr, "eakted: cannot listen on %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (group[0]) {
		struct group *g = getgrnam(group);
		if (g == NULL || chown(path, (uid_t)-1, g->gr_gid) != 0) {
			fprintf(stderr, "eakted: cannot give %s to group %s: %s\n", path, group, g ? strerror(errno) : "no such group");
			close(fd);
			return -1;
		}
	}
	if (listen(fd, 128) != 0) {
		fprintf(stderr, "eakted: cannot listen on %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int drop_privileges(const char *user, const char *socket_path)
{
	struct passwd *pw;

	if (user[0] == '\0')
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		fprintf(stderr, "eakted: user %s does not exist\n", user);
		return -1;
	}
	if (getuid() == pw->pw_uid)
		return 0;
	if (chown(socket_path, pw->pw_uid, (gid_t)-1) != 0 ||
	    initgroups(user, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		fprintf(stderr, "eakted: cannot become user %s: %s\n", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		fprintf(stderr, "eakted: still root after dropping to %s; refusing to run\n", user);
		return -1;
	}
	return 0;
}

static void reload(void)
{
	dconf fresh;
	char err[600];

	if (conf.path[0] == '\0') {
		fprintf(stderr, "eakted: SIGHUP: no configuration file to re-read\n");
		return;
	}
	sd_notify(0, "RELOADING=1");
	dconf_defaults(&fresh);
	if (dconf_load(&fresh, conf.path, err, sizeof(err)) < 0) {
		fprintf(stderr, "eakted: SIGHUP: keeping the old roles: %s\n", err);
	} else {
		pthread_rwlock_wrlock(&conf_lock);
		memcpy(conf.roles, fresh.roles, sizeof(conf.roles));
		conf.nroles = fresh.nroles;
		pthread_rwlock_unlock(&conf_lock);
		fprintf(stderr, "eakted: re-read the roles from %s (%zu groups)\n", conf.path, fresh.nroles);
		if (strcmp(fresh.archive, conf.archive) != 0 || strcmp(fresh.socket, conf.socket) != 0)
			fprintf(stderr, "eakted: SIGHUP: archive and socket changes take effect at the next start\n");
		/* Hotfolders given as flags are not in the file: they stay. */
		if (dconf_keep_flag_hotfolders(&fresh, &conf, err, sizeof(err)) < 0 ||
		    dconf_check(&fresh, err, sizeof(err)) < 0) {
			fprintf(stderr, "eakted: SIGHUP: keeping the old hotfolders: %s\n", err);
		} else {
			hotfolders_reload(hfs, &fresh);
			/* Only this thread reads conf.hotfolders. */
			dconf_free(&conf);
			conf.hotfolders = fresh.hotfolders;
			conf.nhotfolders = fresh.nhotfolders;
			fresh.hotfolders = NULL;
			fresh.nhotfolders = 0;
		}
	}
	dconf_free(&fresh);
	sd_notify(0, "READY=1");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "archive", required_argument, NULL, 'a' },
		{ "socket", required_argument, NULL, 's' },
		{ "role", required_argument, NULL, 'r' },
		{ "hotfolder", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *config = NULL, *archive = NULL, *sockpath = NULL;
	char *roles[DCONF_MAX_ROLES];
	size_t nroles = 0;
	const char *hotdirs[DCONF_MAX_HOTFOLDERS];
	size_t nhotdirs = 0;
	int c, check = 0, lfd, sfd, rc = 0;
	char err[600];
	eakte_archive *a = NULL;
	writer *w = NULL;
	serve_ctx ctx;
	sigset_t sigs;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'C': check = 1; break;
		case 'a': archive = optarg; break;
		case 's': sockpath = optarg; break;
		case 'r':
			if (nroles == DCONF_MAX_ROLES) {
				fprintf(stderr, "eakted: too many --role flags\n");
				return 2;
			}
			roles[nroles++] = optarg;
			break;
		case 'H':
			if (nhotdirs == DCONF_MAX_HOTFOLDERS) {
				fprintf(stderr, "eakted: too many --hotfolder flags\n");
				return 2;
			}
			hotdirs[nhotdirs++] = optarg;
			break;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': printf("eakted %s\n", eakte_version()); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "eakted: unexpected argument %s\n", argv[optind]);
		return 2;
	}
	dconf_defaults(&conf);
	if (config != NULL && dconf_load(&conf, config, err, sizeof(err)) < 0) {
		fprintf(stderr, "eakted: %s\n", err);
		return 2;
	}
	if (archive != NULL)
		snprintf(conf.archive, sizeof(conf.archive), "%s", archive);
	if (sockpath != NULL) {
		if (strlen(sockpath) >= sizeof(conf.socket)) {
			fprintf(stderr, "eakted: socket path too long (at most %zu bytes)\n", sizeof(conf.socket) - 1);
			return 2;
		}
		snprintf(conf.socket, sizeof(conf.socket), "%s", sockpath);
	}
	for (size_t i = 0; i < nroles; i++) {
		char *eq = strchr(roles[i], '=');
		if (eq == NULL) {
			fprintf(stderr, "eakted: --role needs GROUP=ROLE, not %s\n", roles[i]);
			return 2;
		}
		*eq = '\0';
		if (dconf_add_role(&conf, roles[i], eq + 1, err, sizeof(err)) < 0) {
			fprintf(stderr, "eakted: --role: %s\n", err);
			return 2;
		}
	}
	for (size_t i = 0; i < nhotdirs; i++)
		if (dconf_add_hotfolder_flag(&conf, hotdirs[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "eakted: --hotfolder: %s\n", err);
			return 2;
		}
	if (dconf_check(&conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "eakted: %s\n", err);
		return 2;
	}
	if (check) {
		printf("eakted: configuration is valid (archive %s, socket %s, %zu role entries, %zu hotfolders)\n",
			conf.archive, conf.socket, conf.nroles, conf.nhotfolders);
		return 0;
	}

	/* Signals go to the signalfd of this thread, not to handlers. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((sfd = signalfd(-1, &sigs, SFD_CLOEXEC)) < 0) {
		fprintf(stderr, "eakted: signalfd: %s\n", strerror(errno));
		return 5;
	}
	if ((lfd = listen_on(conf.socket, conf.socket_mode, conf.socket_group)) < 0)
		return 5;
	if ((rc = eakte_archive_open(&a, conf.archive, EAKTE_OPEN_WRITE | EAKTE_OPEN_DEFER_TIDY)) < 0) {
		fprintf(stderr, "eakted: %s\n", eakte_error_last());
		unlink(conf.socket);
		return rc == EAKTE_ENOTFOUND ? 3 : 5;
	}
	if (drop_privileges(conf.user, conf.socket) < 0 ||
	    writer_start(&w, a, conf.archive, conf.batch_max, conf.batch_wait_ms) < 0) {
		eakte_archive_free(a);
		unlink(conf.socket);
		return 5;
	}
	ctx.conf = &conf;
	ctx.conf_lock = &conf_lock;
	ctx.writer = w;
	conns_writer = w;
	if (hotfolders_start(&hfs, &conf, conf.archive, w) < 0) {
		unlink(conf.socket);
		if (writer_stop(w))
			_exit(5);
		return 5;
	}
	conns = calloc(conf.max_clients, sizeof(*conns));
	if (conns == NULL) {
		fprintf(stderr, "eakted: out of memory\n");
		return 5;
	}
	fprintf(stderr, "eakted: serving %s on %s\n", conf.archive, conf.socket);
	sd_notifyf(0, "READY=1\nSTATUS=serving %s\nMAINPID=%lu", conf.archive, (unsigned long)getpid());

	for (;;) {
		struct pollfd p[2] = { { lfd, POLLIN, 0 }, { sfd, POLLIN, 0 } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "eakted: poll: %s\n", strerror(errno));
			break;
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					reload();
					continue;
				}
				fprintf(stderr, "eakted: signal %u: finishing the requests in flight\n", si.ssi_signo);
				break;
			}
		}
		if (p[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			pthread_t t;
			conn_arg *ca;

			if (fd < 0)
				continue;
			pthread_mutex_lock(&conns_mu);
			if (nconns == conf.max_clients) {
				pthread_mutex_unlock(&conns_mu);
				static const char busy[] = "{\"v\":1,\"ok\":false,\"error\":{\"code\":-9,\"name\":\"io\","
					"\"message\":\"eakted has its maximum number of clients; try again\"}}\n";
				/* Best effort: a client that cannot take it is gone anyway. */
				(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
				close(fd);
				continue;
			}
			conns[nconns++] = fd;
			writer_clients(conns_writer, 1);
			pthread_mutex_unlock(&conns_mu);
			ca = malloc(sizeof(*ca));
			if (ca == NULL) {
				conn_remove(fd);
				close(fd);
				continue;
			}
			ca->ctx = &ctx;
			ca->fd = fd;
			pthread_attr_t attr;
			pthread_attr_init(&attr);
			pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
			if (pthread_create(&t, &attr, conn_thread, ca) != 0) {
				conn_remove(fd);
				close(fd);
				free(ca);
			}
			pthread_attr_destroy(&attr);
		}
	}

	/* Drain: no new clients; idle clients see end-of-file; requests in
	 * flight finish and are answered; then the writer empties its queue. */
	sd_notify(0, "STOPPING=1\nSTATUS=finishing the requests in flight");
	hotfolders_stop(hfs);
	close(lfd);
	unlink(conf.socket);
	pthread_mutex_lock(&conns_mu);
	for (size_t i = 0; i < nconns; i++)
		shutdown(conns[i], SHUT_RD);
	while (nconns > 0)
		pthread_cond_wait(&conns_cv, &conns_mu);
	pthread_mutex_unlock(&conns_mu);
	if (writer_stop(w)) {
		/* Every answered request is durable; only the extractor, which
		 * keeps its unfinished work pending in the index, is cut off. */
		fprintf(stderr, "eakted: stopped\n");
		_exit(0);
	}
	free(conns);
	dconf_free(&conf);
	fprintf(stderr, "eakted: stopped\n");
	return 0;
}
