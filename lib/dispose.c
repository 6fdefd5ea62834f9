/*
 * dispose.c - four-eyes disposal (Aussonderung): dispose-propose, dispose,
 * the state tree without the disposed Akte, and the physical removal
 * (purge) after the commit point.  See life.h.
 */
#include "lifeint.h"

#include "cjson.h"
#include "encode.h"
#include "fsutil.h"
#include "journal.h"
#include "packs.h"
#include "records.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Policy                                                              */
/* ------------------------------------------------------------------ */

static int refuse_actor(const char *actor, const char *what)
{
	if (actor != NULL && strncmp(actor, "hotfolder:", 10) == 0)
		return eakte_error__set(EAKTE_EPOLICY, "a hotfolder (%s) cannot %s a disposal: disposal needs two people "
			"(four-eyes principle)", actor, what);
	return 0;
}

/* Every rule that must hold at proposal and again at approval.  *export
 * gets the seq of the export the disposal relies on (0 for value V). */
static int check_policy(sqlite3 *db, const life_akte *k, uint64_t *export_seq)
{
	char today[11];
	json_t *holds = NULL;
	sqlite3_stmt *st;
	int rc, src;

	*export_seq = 0;
	eakte_life__today(today);
	if (k->disposed_seq > 0)
		return eakte_error__set(EAKTE_EPOLICY, "Akte %s was already disposed of by event %" PRIu64, k->az, k->disposed_seq);
	if (!k->closed)
		return eakte_error__set(EAKTE_EPOLICY, "Akte %s is open, and open Akten never expire; close it (zdA) with "
			"`eakte akte close %s` first", k->az, k->az);
	if (k->retention < 0)
		return eakte_error__set(EAKTE_EPOLICY, "Akte %s is kept unbefristet (%s), so it is never disposed of", k->az,
			k->retention_seq >= 0 ? "set by a retention-set event" : "its Aktenplan code's retention");
	if (strcmp(k->end, today) >= 0)
		return eakte_error__set(EAKTE_EPOLICY, "the retention of Akte %s ends on %s (zdA %s, %d years); it can be "
			"disposed of from %s on", k->az, k->end, k->closed_on, k->retention, k->due_from);
	if ((rc = eakte_life__active_holds(&holds, db, k->id)) < 0)
		return rc;
	if (json_array_size(holds) > 0) {
		const json_t *h = json_array_get(holds, 0);
		const char *c = json_string_value(json_object_get(h, "case"));
		rc = eakte_error__set(EAKTE_EPOLICY, "Akte %s is under legal hold %lld (%s%s%s)%s; release it first with "
			"`eakte hold release %s --hold %lld --reason TEXT`", k->az,
			(long long)json_integer_value(json_object_get(h, "id")), json_string_value(json_object_get(h, "reason")),
			c ? ", case " : "", c ? c : "", json_array_size(holds) > 1 ? " and more holds" : "", k->az,
			(long long)json_integer_value(json_object_get(h, "id")));
		json_decref(holds);
		return rc;
	}
	json_decref(holds);
	if (k->value == 'V')
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT max(seq) FROM export WHERE akte_id = ?1 AND seq > ?2", -1, &st, NULL) != SQLITE_OK)
		return eakte_life__db_error(db, "looking up exports");
	sqlite3_bind_int64(st, 1, k->id);
	sqlite3_bind_int64(st, 2, k->closed_seq);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*export_seq = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (src != SQLITE_ROW)
		return eakte_life__db_error(db, "looking up exports");
	if (*export_seq == 0)
		return eakte_error__set(EAKTE_EPOLICY, "Akte %s has archival value %c and was not exported since its zdA on %s: "
			"offer it to the public archive first (`eakte export %s -o FILE`), then dispose of it", k->az, k->value,
			k->closed_on, k->az);
	return 0;
}

static int open_proposal(int64_t *seq, sqlite3 *db, const life_akte *k)
{
	sqlite3_stmt *st;
	int src;

	*seq = 0;
	if (sqlite3_prepare_v2(db, "SELECT max(seq) FROM proposal WHERE akte_id = ?1 AND approved_seq IS NULL "
			       "AND seq > ?2 AND seq > ?3", -1, &st, NULL) != SQLITE_OK)
		return eakte_life__db_error(db, "looking up proposals");
	sqlite3_bind_int64(st, 1, k->id);
	sqlite3_bind_int64(st, 2, k->closed_seq);
	sqlite3_bind_int64(st, 3, k->reopened_seq);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*seq = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return src == SQLITE_ROW ? 0 : eakte_life__db_error(db, "looking up proposals");
}

int eakte_dispose_propose(eakte_archive *a, const char *az, const char *reason, const char *actor, uint64_t *proposal_out)
{
	eakte_index *ix;
	life_akte k;
	uint64_t export_seq, seq;
	int64_t open;
	json_t *ev;
	int rc;

	if (proposal_out != NULL)
		*proposal_out = 0;
	if ((rc = eakte_life__writer(&ix, a)) < 0 || (rc = eakte_records__check_az(az)) < 0 ||
	    (rc = eakte_life__check_reason(reason)) < 0 || (rc = refuse_actor(actor ? actor : a->actor, "propose")) < 0 ||
	    (rc = eakte_life__akte_get(&k, eakte_index__db(ix), az)) < 0 ||
	    (rc = check_policy(eakte_index__db(ix), &k, &export_seq)) < 0 ||
	    (rc = open_proposal(&open, eakte_index__db(ix), &k)) < 0)
		return rc;
	if (open > 0)
		return eakte_error__set(EAKTE_EPOLICY, "Akte %s has an open disposal proposal already (%lld); a second person "
			"approves it with `eakte dispose approve %lld`", az, (long long)open, (long long)open);
	ev = json_pack("{s:s, s:s, s:s}", "action", "dispose-propose", "akte", az, "reason", reason);
	if (ev == NULL)
		return eakte_error__oom("building a dispose-propose event");
	rc = eakte_life__commit(a, ev, actor, &seq);
	json_decref(ev);
	if (rc == 0 && proposal_out != NULL)
		*proposal_out = seq;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Approval                                                            */
/* ------------------------------------------------------------------ */

static int read_event(eakte_ev *ev, eakte_jcommit *jc, eakte_archive *a, uint64_t seq)
{
	int rc;

	if (seq >= a->index_len)
		return eakte_error__set(EAKTE_ECORRUPT, "the index names event %" PRIu64 ", beyond the journal; run `eakte reindex`", seq);
	if ((rc = eakte_journal__read_commit(jc, a, &a->commits[seq])) < 0)
		return rc;
	if (jc->json == NULL || (rc = eakte_event__parse(ev, jc->json, jc->len)) < 0) {
		eakte_journal__jcommit_free(jc);
		return eakte_error__set(EAKTE_ECORRUPT, "journal event %" PRIu64 " cannot be read; run `eakte verify`", seq);
	}
	return 0;
}

static int add_meta(json_t *metas, const eakte_ev *ev)
{
	const char *sha = json_string_value(json_object_get(json_object_get(ev->root, "meta"), "sha256"));

	if (sha == NULL)
		return eakte_error__set(EAKTE_ECORRUPT, "journal event %" PRIu64 " has no metadata hash", ev->seq);
	if (json_array_append_new(metas, json_pack("{s:I, s:s}", "seq", (json_int_t)ev->seq, "sha256", sha)) < 0)
		return eakte_error__oom("listing what a disposal removes");
	return 0;
}

/* Everything filed for the Akte, from the journal events the index names:
 * {"docs":[{doc,version,content,meta}], "metas":[{seq,sha256}]}. */
static int removed_list(json_t **out, eakte_archive *a, sqlite3 *db, const life_akte *k)
{
	sqlite3_stmt *st = NULL;
	json_t *docs = json_array(), *metas = json_array();
	int rc, src;

	*out = NULL;
	if (docs == NULL || metas == NULL) {
		rc = eakte_error__oom("listing what a disposal removes");
		goto out;
	}
	if ((rc = eakte_journal__load_index(a)) < 0)
		goto out;
	if (sqlite3_prepare_v2(db,
		    "SELECT seq FROM (SELECT e.seq FROM doc_event e JOIN doc d ON d.id = e.doc_id WHERE d.akte_id = ?1 "
		    "UNION SELECT created_seq FROM akte WHERE id = ?1 "
		    "UNION SELECT created_seq FROM vorgang WHERE akte_id = ?1) ORDER BY seq", -1, &st, NULL) != SQLITE_OK) {
		rc = eakte_life__db_error(db, "listing the events of an Akte");
		goto out;
	}
	sqlite3_bind_int64(st, 1, k->id);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		eakte_jcommit jc;
		eakte_ev ev;
		if ((rc = read_event(&ev, &jc, a, (uint64_t)sqlite3_column_int64(st, 0))) < 0)
			goto out;
		if (strcmp(ev.action, "file") == 0) {
			eakte_ev_file f;
			char c[EAKTE_HASH_HEX_LEN + 1], m[EAKTE_HASH_HEX_LEN + 1];
			if ((rc = eakte_event__file_refs(&f, &ev)) == 0) {
				eakte_hex__encode(c, f.content_sha256, EAKTE_HASH_LEN);
				eakte_hex__encode(m, f.meta_sha256, EAKTE_HASH_LEN);
				if (json_array_append_new(docs, json_pack("{s:s, s:I, s:s, s:s}", "doc", f.doc, "version",
					    (json_int_t)f.version, "content", c, "meta", m)) < 0)
					rc = eakte_error__oom("listing what a disposal removes");
			}
		} else {
			rc = add_meta(metas, &ev);
		}
		eakte_event__free(&ev);
		eakte_journal__jcommit_free(&jc);
		if (rc < 0)
			goto out;
	}
	if (src != SQLITE_DONE) {
		rc = eakte_life__db_error(db, "listing the events of an Akte");
		goto out;
	}
	*out = json_pack("{s:O, s:O}", "docs", docs, "metas", metas);
	if (*out == NULL)
		rc = eakte_error__oom("listing what a disposal removes");
out:
	sqlite3_finalize(st);
	json_decref(docs);
	json_decref(metas);
	return rc;
}

int eakte_dispose_approve(eakte_archive *a, uint64_t proposal, const char *actor, uint64_t *seq_out)
{
	eakte_index *ix;
	sqlite3 *db;
	sqlite3_stmt *st;
	life_akte k;
	char az[257] = "", proposer[256] = "", reason[EAKTE_LIFE_MAX_REASON + 1] = "", u1[32], u2[32];
	const char *approver;
	int64_t approved = 0;
	uint64_t export_seq, seq;
	json_t *ev = NULL, *removed = NULL;
	int rc, src;

	if (seq_out != NULL)
		*seq_out = 0;
	if ((rc = eakte_life__writer(&ix, a)) < 0)
		return rc;
	db = eakte_index__db(ix);
	approver = actor ? actor : a->actor;
	if ((rc = refuse_actor(approver, "approve")) < 0)
		return rc;
	if (sqlite3_prepare_v2(db, "SELECT a.az, p.actor, p.reason, coalesce(p.approved_seq, 0) FROM proposal p "
			       "JOIN akte a ON a.id = p.akte_id WHERE p.seq = ?1", -1, &st, NULL) != SQLITE_OK)
		return eakte_life__db_error(db, "looking up a proposal");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)proposal);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		snprintf(az, sizeof(az), "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(proposer, sizeof(proposer), "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(reason, sizeof(reason), "%s", (const char *)sqlite3_column_text(st, 2));
		approved = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	if (src == SQLITE_DONE)
		return eakte_error__set(EAKTE_EPOLICY, "there is no disposal proposal %" PRIu64 " (a proposal's id is the seq of "
			"its dispose-propose event); see `eakte dispose ls`", proposal);
	if (src != SQLITE_ROW)
		return eakte_life__db_error(db, "looking up a proposal");
	if (approved > 0)
		return eakte_error__set(EAKTE_EPOLICY, "proposal %" PRIu64 " was already approved: Akte %s was disposed of by "
			"event %lld", proposal, az, (long long)approved);
	if ((eakte_life__uid_of(approver, u1, sizeof(u1)) && eakte_life__uid_of(proposer, u2, sizeof(u2)) &&
	     strcmp(u1, u2) == 0) || strcmp(approver, proposer) == 0)
		return eakte_error__set(EAKTE_EPOLICY, "four-eyes principle: proposal %" PRIu64 " was made by %s, who cannot "
			"approve it too; a different person must run `eakte dispose approve %" PRIu64 "`", proposal, proposer, proposal);
	if ((rc = eakte_life__akte_get(&k, db, az)) < 0)
		return rc;
	if ((int64_t)proposal < k.closed_seq || (int64_t)proposal < k.reopened_seq)
		return eakte_error__set(EAKTE_EPOLICY, "proposal %" PRIu64 " is older than the latest %s of Akte %s (event %lld): "
			"it no longer applies; propose again with `eakte dispose propose %s --reason TEXT`", proposal,
			k.reopened_seq > k.closed_seq ? "reopening" : "zdA", az,
			(long long)(k.reopened_seq > k.closed_seq ? k.reopened_seq : k.closed_seq), az);
	if ((rc = check_policy(db, &k, &export_seq)) < 0 || (rc = removed_list(&removed, a, db, &k)) < 0)
		return rc;
	{
		char *buf = NULL;
		size_t len = 0;
		if ((rc = eakte_cjson__dump(&buf, &len, removed)) < 0)
			goto out;
		free(buf);
		/* The Löschprotokoll must be one event: say so rather than fail
		 * with the generic size error. */
		if (len > EAKTE_EVENT_MAX - 4096) {
			rc = eakte_error__set(EAKTE_EINVALID, "Akte %s has %zu document versions and %zu metadata objects: their "
				"list (%zu bytes) does not fit into one dispose event (1 MiB)", az,
				json_array_size(json_object_get(removed, "docs")), json_array_size(json_object_get(removed, "metas")), len);
			goto out;
		}
	}
	ev = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s#, s:O}", "action", "dispose", "akte", az,
		"proposal", (json_int_t)proposal, "proposed_by", proposer, "reason", reason, "retention_end", k.end,
		"value", &k.value, 1, "removed", removed);
	if (ev == NULL || (export_seq > 0 && json_object_set_new(ev, "export", json_integer((json_int_t)export_seq)) < 0)) {
		rc = eakte_error__oom("building a dispose event");
		goto out;
	}
	if ((rc = eakte_life__commit(a, ev, actor, &seq)) < 0)
		goto out;
	if (seq_out != NULL)
		*seq_out = seq;
	/* Disposed from here on; the removal follows (and is finished by the
	 * next writer if it cannot be done now). */
	if (a->index != NULL)
		eakte_dispose__purge_pending(a, a->index);
	else
		snprintf(a->warning, sizeof(a->warning), "Akte %s is disposed of, but its objects are not yet removed "
			"(the index could not be updated); the next write removes them", az);
out:
	json_decref(ev);
	json_decref(removed);
	return rc;
}

int eakte_dispose_list_json(char **out, eakte_archive *a)
{
	eakte_index *ix;
	sqlite3 *db;
	sqlite3_stmt *st;
	json_t *list = json_array(), *res;
	int rc, src;

	*out = NULL;
	if (list == NULL)
		return eakte_error__oom("listing proposals");
	if ((rc = eakte_search__reader_index(&ix, a)) < 0) {
		json_decref(list);
		return rc;
	}
	db = eakte_index__db(ix);
	if (sqlite3_prepare_v2(db, "SELECT p.seq, a.az, p.reason, p.time, p.actor, "
			       "(p.seq < coalesce(a.closed_seq, -1) OR p.seq < coalesce(l.reopened_seq, -1) "
			       "OR l.disposed_seq IS NOT NULL) FROM proposal p JOIN akte a ON a.id = p.akte_id "
			       "LEFT JOIN akte_life l ON l.akte_id = a.id "
			       "WHERE p.approved_seq IS NULL ORDER BY p.seq", -1, &st, NULL) != SQLITE_OK) {
		json_decref(list);
		return eakte_life__db_error(db, "listing proposals");
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:b}", "id", (json_int_t)sqlite3_column_int64(st, 0),
			"akte", (const char *)sqlite3_column_text(st, 1), "reason", (const char *)sqlite3_column_text(st, 2),
			"time", (const char *)sqlite3_column_text(st, 3), "actor", (const char *)sqlite3_column_text(st, 4),
			"stale", sqlite3_column_int(st, 5));
		if (o == NULL || json_array_append_new(list, o) < 0) {
			sqlite3_finalize(st);
			json_decref(list);
			return eakte_error__oom("listing proposals");
		}
	}
	sqlite3_finalize(st);
	if (src != SQLITE_DONE) {
		json_decref(list);
		return eakte_life__db_error(db, "listing proposals");
	}
	res = json_pack("{s:s, s:o}", "schema", "eakte.proposals/1", "proposals", list);
	if (res == NULL)
		return eakte_error__oom("listing proposals");
	rc = eakte_cjson__dump(out, NULL, res);
	json_decref(res);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The state without the Akte                                          */
/* ------------------------------------------------------------------ */

int eakte_dispose__state_changes(eakte_txn *t, const eakte_ev *ev)
{
	const char *az = json_string_value(json_object_get(ev->root, "akte"));
	const json_t *docs = json_object_get(json_object_get(ev->root, "removed"), "docs"), *d;
	json_t *seen = json_object();
	char path[256];
	size_t i;
	int rc = 0;

	if (seen == NULL)
		return eakte_error__oom("removing an Akte from the state");
	if (az == NULL || !json_is_array(docs)) {
		json_decref(seen);
		return eakte_error__set(EAKTE_ECORRUPT, "dispose event %" PRIu64 " is malformed", ev->seq);
	}
	json_array_foreach(docs, i, d) {
		const char *doc = json_string_value(json_object_get(d, "doc"));
		if (doc == NULL || !eakte_event__valid_doc_id(doc)) {
			rc = eakte_error__set(EAKTE_ECORRUPT, "dispose event %" PRIu64 " lists a malformed document id", ev->seq);
			break;
		}
		if (json_object_get(seen, doc) != NULL)
			continue;
		if (json_object_set_new(seen, doc, json_true()) < 0) {
			rc = eakte_error__oom("removing an Akte from the state");
			break;
		}
		/* The whole directory: versions, metadata changes, their events. */
		eakte_journal__doc_dir(path, sizeof(path), doc);
		if ((rc = eakte_txn__state_put(t, path, NULL)) < 0)
			break;
	}
	json_decref(seen);
	if (rc < 0)
		return rc;
	if ((rc = eakte_journal__akte_path(path, sizeof(path), az, "")) < 0)
		return rc;
	path[strlen(path) - 1] = '\0';   /* the Akte's directory, without the '/' */
	return eakte_txn__state_put(t, path, NULL);
}

/* ------------------------------------------------------------------ */
/* Physical removal                                                    */
/* ------------------------------------------------------------------ */

typedef struct {
	git_oid *v;
	size_t n, cap;
} oidset;

static int oidset_add(oidset *s, const git_oid *o)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		git_oid *p = realloc(s->v, cap * sizeof(*p));
		if (p == NULL)
			return eakte_error__oom("listing the objects to keep");
		s->v = p;
		s->cap = cap;
	}
	git_oid_cpy(&s->v[s->n++], o);
	return 0;
}

static int cmp_oid(const void *x, const void *y)
{
	return git_oid_cmp(x, y);
}

static int oidset_has(const oidset *s, const git_oid *o)
{
	return bsearch(o, s->v, s->n, sizeof(git_oid), cmp_oid) != NULL;
}

static int keep_cb(const git_oid *o, void *payload)
{
	return oidset_has(payload, o);
}

static int walk_cb(const char *root, const git_tree_entry *e, void *payload)
{
	(void)root;
	return oidset_add(payload, git_tree_entry_id(e)) < 0 ? -1 : 0;
}

/* Every object refs/heads/journal and refs/eakte/state reach: the journal
 * commits with their trees and event blobs, the state commit and its
 * whole tree. */
static int reachable(oidset *s, eakte_archive *a)
{
	git_oid state;
	git_commit *c = NULL;
	git_tree *tree = NULL;
	int rc;

	if ((rc = eakte_journal__load_index(a)) < 0)
		return rc;
	for (uint64_t i = 0; i < a->index_len; i++) {
		const git_tree_entry *e;
		if ((rc = oidset_add(s, &a->commits[i])) < 0)
			return rc;
		if (git_commit_lookup(&c, a->repo, &a->commits[i]) < 0 || git_commit_tree(&tree, c) < 0) {
			git_commit_free(c);
			return eakte_archive__git_error(EAKTE_ECORRUPT, "reading a journal commit");
		}
		rc = oidset_add(s, git_tree_id(tree));
		e = git_tree_entry_byname(tree, "event.json");
		if (rc == 0 && e != NULL)
			rc = oidset_add(s, git_tree_entry_id(e));
		git_tree_free(tree);
		git_commit_free(c);
		tree = NULL;
		c = NULL;
		if (rc < 0)
			return rc;
	}
	if (git_reference_name_to_id(&state, a->repo, EAKTE_STATE_REF) < 0)
		return eakte_archive__git_error(EAKTE_ECORRUPT, "reading " EAKTE_STATE_REF);
	if ((rc = oidset_add(s, &state)) < 0)
		return rc;
	if (git_commit_lookup(&c, a->repo, &state) < 0 || git_commit_tree(&tree, c) < 0) {
		git_commit_free(c);
		return eakte_archive__git_error(EAKTE_ECORRUPT, "reading the state tree");
	}
	rc = oidset_add(s, git_tree_id(tree));
	if (rc == 0 && git_tree_walk(tree, GIT_TREEWALK_PRE, walk_cb, s) < 0)
		rc = git_error_last() && git_error_last()->klass != GIT_ERROR_NONE ?
			eakte_archive__git_error(EAKTE_EIO, "walking the state tree") : eakte_error__oom("walking the state tree");
	git_tree_free(tree);
	git_commit_free(c);
	if (rc < 0)
		return rc;
	qsort(s->v, s->n, sizeof(git_oid), cmp_oid);
	return 0;
}

/* Unlink the loose objects of the pending disposals that nothing alive
 * reaches (the same content may be filed in another Akte too). */
static int unlink_loose(eakte_archive *a, sqlite3 *db, const oidset *keep)
{
	sqlite3_stmt *st;
	int src, rc = 0;

	if (sqlite3_prepare_v2(db, "SELECT o.oid FROM disposed_object o JOIN disposal d ON d.seq = o.seq "
			       "WHERE d.purged = 0", -1, &st, NULL) != SQLITE_OK)
		return eakte_life__db_error(db, "listing objects to remove");
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *hex = (const char *)sqlite3_column_text(st, 0);
		char path[GIT_OID_HEXSZ + 2], dir[3];
		git_oid oid;
		if (hex == NULL || strlen(hex) != GIT_OID_HEXSZ || git_oid_fromstr(&oid, hex) < 0 || oidset_has(keep, &oid))
			continue;
		snprintf(path, sizeof(path), "%.2s/%s", hex, hex + 2);
		if (unlinkat(a->objects_fd, path, 0) != 0) {
			if (errno == ENOENT)
				continue;   /* removed before a crash, or packed */
			rc = eakte_error__set_errno(EAKTE_EIO, errno, "cannot remove store.git/objects/%s", path);
			break;
		}
		snprintf(dir, sizeof(dir), "%.2s", hex);
		/* Durable before the disposal is marked done. */
		if ((rc = eakte_fs__fsync_dir_at(a->objects_fd, dir)) < 0)
			break;
	}
	sqlite3_finalize(st);
	if (rc == 0 && src != SQLITE_DONE && src != SQLITE_ROW)
		rc = eakte_life__db_error(db, "listing objects to remove");
	return rc;
}

static int exec_sql(sqlite3 *db, const char *sql, const char *what)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return eakte_life__db_error(db, what);
	return 0;
}

static int purge(eakte_archive *a, eakte_index *ix)
{
	sqlite3 *db = eakte_index__db(ix);
	oidset keep = { NULL, 0, 0 };
	char objects[4200];
	int rc;

	/* What the references name now is what survives the purge: make both
	 * of them durable first.  A state reference whose rename was not yet
	 * flushed (journal.c, "Write order"; perhaps by a handle since
	 * closed) could come back after a power failure naming a state
	 * commit the purge removed, which no catch-up could repair. */
	if ((rc = eakte_journal__sync_refs(a)) < 0)
		goto out;
	if ((rc = reachable(&keep, a)) < 0 || (rc = unlink_loose(a, db, &keep)) < 0)
		goto out;
	/* Old state trees and commits and the disposed metadata objects live
	 * in packs: rewrite them to what is reachable, durably, before the old
	 * ones go. */
	snprintf(objects, sizeof(objects), "%s/store.git/objects", a->path);
	if ((rc = eakte_packs__rewrite(objects, a->objects_fd, keep_cb, &keep)) < 0 ||
	    (rc = eakte_archive__reopen_odb(a)) < 0)
		goto out;
	/* The rows went when the dispose event was applied (secure_delete
	 * zeroed them); the full-text index still has the words in older
	 * segments until they are merged into one. */
	if ((rc = exec_sql(db, "PRAGMA secure_delete = ON", "removing disposed records")) < 0 ||
	    (rc = exec_sql(db, "BEGIN IMMEDIATE", "removing disposed records")) < 0)
		goto out;
	if ((rc = exec_sql(db, "INSERT INTO fts (fts) VALUES ('optimize');"
			   "DELETE FROM disposed_object WHERE seq IN (SELECT seq FROM disposal WHERE purged = 0)",
			   "removing disposed records")) < 0 ||
	    (rc = exec_sql(db, "COMMIT", "removing disposed records")) < 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	/* The WAL still holds the old pages: copy back and truncate it before
	 * the removal counts as done (a reader holding an old snapshot makes
	 * this wait, and fail after the busy timeout: then the next writer
	 * tries again). */
	{
		int log = 0, done = 0;
		if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done) != SQLITE_OK) {
			rc = eakte_life__db_error(db, "truncating the index's write-ahead log");
			goto out;
		}
	}
	rc = exec_sql(db, "UPDATE disposal SET purged = 1 WHERE purged = 0", "recording the removal as done");
out:
	free(keep.v);
	return rc;
}

int eakte_dispose__purge_pending(eakte_archive *a, eakte_index *ix)
{
	sqlite3 *db = eakte_index__db(ix);
	sqlite3_stmt *st;
	int src, rc;

	if (a->lock_fd < 0)
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT seq FROM disposal WHERE purged = 0 LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return eakte_life__db_error(db, "looking for unfinished disposals");
	src = sqlite3_step(st);
	sqlite3_finalize(st);
	if (src == SQLITE_DONE)
		return 0;
	if (src != SQLITE_ROW)
		return eakte_life__db_error(db, "looking for unfinished disposals");
	if ((rc = purge(a, ix)) < 0) {
		snprintf(a->warning, sizeof(a->warning), "a disposal is recorded, but its objects were not all removed yet "
			"(%s); the next write tries again", eakte_error_last());
		return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Tombstones                                                          */
/* ------------------------------------------------------------------ */

int eakte_dispose__doc_missing(eakte_archive *a, const char *doc, int rc)
{
	eakte_index *ix;
	sqlite3_stmt *st;
	char msg[512];
	int src;

	if (rc != EAKTE_ENOTFOUND || doc == NULL)
		return rc;
	snprintf(msg, sizeof(msg), "%s", eakte_error_last());
	if (eakte_search__reader_index(&ix, a) < 0)
		return eakte_error__set(rc, "%s", msg);
	if (sqlite3_prepare_v2(eakte_index__db(ix), "SELECT d.seq, substr(d.time, 1, 10), d.proposal, a.az FROM disposed_doc t "
			       "JOIN disposal d ON d.seq = t.seq JOIN akte a ON a.id = d.akte_id WHERE t.uuid = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return eakte_error__set(rc, "%s", msg);
	sqlite3_bind_text(st, 1, doc, -1, SQLITE_TRANSIENT);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		rc = eakte_error__set(EAKTE_ENOTFOUND, "document %s was disposed of on %s by event %lld (proposal %lld, "
			"Akte %s); its content and metadata are no longer in the archive", doc,
			(const char *)sqlite3_column_text(st, 1), (long long)sqlite3_column_int64(st, 0),
			(long long)sqlite3_column_int64(st, 2), (const char *)sqlite3_column_text(st, 3));
	else
		rc = eakte_error__set(rc, "%s", msg);
	sqlite3_finalize(st);
	return rc;
}
