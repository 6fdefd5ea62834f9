/*
 * fdpass.h - sending bytes with file descriptors over a Unix socket
 * (SCM_RIGHTS), for the daemon client.
 */
#ifndef EAKTE_FDPASS_H
#define EAKTE_FDPASS_H

#include "common.h"

#include <stddef.h>

/* Send all of buf; the descriptors ride with its first byte. */
int eakte_fdpass__send(int sock, const void *buf, size_t len, const int *fds, size_t nfds);

#endif
