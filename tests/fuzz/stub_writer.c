/*
 * stub_writer.c - the writer as fuzz_protocol sees it: every job is
 * refused with EAKTE_EIO and a message, as the real writer refuses a job
 * it cannot run, and nothing is staged.  serve.c's decoding and
 * validation of a request all happen before writer_stage() and
 * writer_submit(); what the writer does with a job (filing,
 * Akten, plan import) is libeakte's code, fuzzed through its own targets
 * (plan, event), and it would make each run depend on all before it.
 */
#include "writer.h"

#include <stdio.h>

/* Nothing staged: the stub writer refuses the job anyway. */
int writer_stage(writer *w, int fd, const char *label, eakte_staged **out)
{
	(void)w;
	(void)fd;
	(void)label;
	*out = NULL;
	return 0;
}

void writer_submit(writer *w, wjob *job)
{
	(void)w;
	job->rc = EAKTE_EIO;
	snprintf(job->error, sizeof(job->error), "fuzz: this build has no writer");
	job->done = 1;
}
