/*
 * fuzz_protocol.c - eakted's socket protocol (daemon/serve.c,
 * schema/protocol-v1.md): the input is what a client sends, JSON lines,
 * over a real socketpair to the real serve_connection(), with a memfd
 * passed (SCM_RIGHTS) along with the first bytes, so that requests that
 * take a descriptor get one.  Reads run on a real archive made at start
 * (an Aktenplan entry and an Akte in it); writes stop at a stub writer
 * (stub_writer.c).  Inputs of even length come from a user with the admin
 * role, odd ones from a user without any role (refusals).
 *
 * Properties: the daemon answers and closes the connection for any input
 * (no hang: libFuzzer's -timeout), and every answer is a JSON object with
 * "v": 1 and "ok", one per line.
 */
#include "fuzz.h"
#include "serve.h"

#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

static dconf conf_admin, conf_none;
static pthread_rwlock_t conf_lock = PTHREAD_RWLOCK_INITIALIZER;

static const char plan[] =
	"[{\"code\":\"01\",\"title\":\"Allgemeines\",\"retention\":10,\"value\":\"A\"},"
	"{\"code\":\"01.02\",\"title\":\"Bauantr\\u00e4ge\",\"parent\":\"01\",\"retention\":\"unbefristet\",\"value\":\"V\"}]";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	eakte_init_options io = EAKTE_INIT_OPTIONS_INIT;
	eakte_akte_options ao = EAKTE_AKTE_OPTIONS_INIT;
	eakte_archive *a = NULL;
	char path[4200], err[512], *az = NULL;
	struct passwd *pw = getpwuid(getuid());
	struct group *gr = pw ? getgrgid(pw->pw_gid) : NULL;
	size_t count;

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "%s/archive", fuzz_tmpdir());
	io.origin = "fuzz.example/log";
	FUZZ_SETUP(eakte_archive_init(path, &io) == 0);
	FUZZ_SETUP(eakte_archive_open(&a, path, EAKTE_OPEN_WRITE) == 0);
	FUZZ_SETUP(eakte_plan_import(a, plan, strlen(plan), "plan.json", NULL, &count) == 0);
	ao.plan = "01.02";
	ao.title = "Bauantrag M\xc3\xbcller";
	FUZZ_SETUP(eakte_akte_create(a, &ao, &az) == 0);
	eakte_free(az);
	eakte_archive_free(a);

	FUZZ_SETUP(gr != NULL);
	dconf_defaults(&conf_admin);
	snprintf(conf_admin.archive, sizeof(conf_admin.archive), "%s", path);
	conf_admin.client_timeout_s = 5;
	conf_none = conf_admin;
	FUZZ_SETUP(dconf_add_role(&conf_admin, gr->gr_name, "admin", err, sizeof(err)) == 0);
	return 0;
}

typedef struct {
	int sock;
	const uint8_t *data;
	size_t size;
	char *answers;
	size_t len, cap;
} client;

static void *client_run(void *arg)
{
	client *c = arg;
	size_t off = 0;

	if (c->size > 0) {
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { (void *)c->data, c->size };
		struct msghdr msg;
		struct cmsghdr *cm;
		int fd = memfd_create("fuzz-doc", MFD_CLOEXEC);
		ssize_t n;

		FUZZ_SETUP(fd >= 0);
		FUZZ_SETUP(write(fd, "Inhalt\n", 7) == 7);
		memset(&msg, 0, sizeof(msg));
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		n = sendmsg(c->sock, &msg, MSG_NOSIGNAL);
		close(fd);
		off = n > 0 ? (size_t)n : c->size;
		while (off < c->size) {
			n = send(c->sock, c->data + off, c->size - off, MSG_NOSIGNAL);
			if (n <= 0)
				break;   /* the daemon closed the connection (a request too long) */
			off += (size_t)n;
		}
	}
	shutdown(c->sock, SHUT_WR);
	for (;;) {
		ssize_t n;
		if (c->cap - c->len < 4096) {
			c->cap = c->cap ? c->cap * 2 : 65536;
			c->answers = realloc(c->answers, c->cap);
			FUZZ_SETUP(c->answers != NULL);
		}
		n = read(c->sock, c->answers + c->len, c->cap - c->len);
		if (n <= 0)
			break;
		c->len += (size_t)n;
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	serve_ctx ctx = { size % 2 == 0 ? &conf_admin : &conf_none, &conf_lock, NULL };
	client c = { -1, data, size, NULL, 0, 0 };
	pthread_t t;
	int sv[2];
	size_t start = 0;

	FUZZ_SETUP(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	c.sock = sv[1];
	FUZZ_SETUP(pthread_create(&t, NULL, client_run, &c) == 0);
	serve_connection(&ctx, sv[0]);
	FUZZ_SETUP(pthread_join(t, NULL) == 0);
	close(sv[1]);

	/* Every answer: one line, a JSON object with "v": 1 and "ok". */
	while (start < c.len) {
		char *nl = memchr(c.answers + start, '\n', c.len - start);
		json_t *r;
		FUZZ_CHECK(nl != NULL);
		r = json_loadb(c.answers + start, (size_t)(nl - (c.answers + start)), 0, NULL);
		FUZZ_CHECK(json_is_object(r));
		FUZZ_CHECK(json_integer_value(json_object_get(r, "v")) == 1);
		FUZZ_CHECK(json_is_boolean(json_object_get(r, "ok")));
		json_decref(r);
		start = (size_t)(nl - c.answers) + 1;
	}
	free(c.answers);
	return 0;
}
