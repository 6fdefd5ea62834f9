/*
 * fdpass.c - sending descriptors with SCM_RIGHTS; see fdpass.h.
 */
#include "fdpass.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int eakte_fdpass__send(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
	const char *p = buf;
	size_t ctl_len = nfds ? CMSG_SPACE(nfds * sizeof(int)) : 0;
	char *ctl = NULL;

	if (nfds > 0) {
		struct cmsghdr *cm;
		ctl = calloc(1, ctl_len);
		if (ctl == NULL)
			return eakte_error__oom("passing descriptors");
		cm = (struct cmsghdr *)ctl;
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	while (len > 0) {
		struct iovec iov = { (void *)p, len };
		struct msghdr msg;
		ssize_t n;

		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if (ctl != NULL) {
			msg.msg_control = ctl;
			msg.msg_controllen = ctl_len;
		}
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(ctl);
			return eakte_error__set_errno(EAKTE_EIO, e, "cannot send on the socket");
		}
		/* The descriptors went with the first bytes. */
		free(ctl);
		ctl = NULL;
		p += n;
		len -= (size_t)n;
	}
	free(ctl);
	return 0;
}
