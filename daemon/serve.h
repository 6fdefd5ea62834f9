/*
 * serve.h - one client connection: JSON-lines requests with descriptors
 * (schema/protocol-v1.md), identity from SO_PEERCRED, roles checked per
 * operation, reads on a fresh read-only view of the archive, writes
 * through the writer's group commit.
 */
#ifndef EAKTED_SERVE_H
#define EAKTED_SERVE_H

#include "dconf.h"
#include "writer.h"

typedef struct {
	const dconf *conf;        /* roles are read under conf_lock */
	pthread_rwlock_t *conf_lock;
	writer *writer;
} serve_ctx;

/* Serve the connected socket `fd` until it closes; closes it. */
void serve_connection(const serve_ctx *ctx, int fd);

#endif
