/*
 * lifeverify.c - what verification checks about disposals (life.h,
 * docs/verification.md "Disposals").
 *
 * While verify.c walks the journal, every event that files or describes
 * something of an Akte is noted here (compactly: ids, seqs, hashes).
 * Afterwards each dispose event is checked: its `removed` list is exactly
 * what the journal says was filed for that Akte before it (every version
 * of every document, every metadata object of meta, akte-create and
 * vorgang-create events), and its proposal is a dispose-propose of the same
 * Akte by a different person.  The objects it lists are then excused from
 * the state and content checks (and must be absent from the state).
 */
#include "lifeint.h"

#include "encode.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	char doc[EAKTE_ID_LEN + 1];
	int64_t version;
	uint64_t seq;
	uint32_t akte;
	uint8_t content[EAKTE_HASH_LEN], meta[EAKTE_HASH_LEN];
} lv_file;

typedef struct {
	uint64_t seq;
	uint32_t akte;               /* UINT32_MAX: from the document (meta events) */
	char doc[EAKTE_ID_LEN + 1];
	uint8_t sha[EAKTE_HASH_LEN];
} lv_meta;

typedef struct {
	uint64_t seq;
	uint32_t akte;
	char actor[256];
} lv_prop;

typedef struct {
	uint64_t seq;
	json_t *root;
} lv_disp;

typedef struct {
	char doc[EAKTE_ID_LEN + 1];
	uint64_t dseq;
} lv_gone_doc;

typedef struct {
	uint64_t seq, dseq;
} lv_gone_meta;

struct eakte_lifev {
	json_t *aktes;               /* Aktenzeichen -> number */
	lv_file *files;
	size_t nfiles, capfiles;
	lv_meta *metas;
	size_t nmetas, capmetas;
	lv_prop *props;
	size_t nprops, capprops;
	lv_disp *disps;
	size_t ndisps, capdisps;
	lv_gone_doc *gone_docs;
	size_t ngone_docs;
	lv_gone_meta *gone_metas;
	size_t ngone_metas;
	lv_gone_doc *doc_akte;        /* doc -> Akte number (dseq holds it), sorted */
};

#define GROW(arr, n, cap) \
	do { \
		if ((n) == (cap)) { \
			size_t nc_ = (cap) ? (cap) * 2 : 64; \
			void *p_ = realloc((arr), nc_ * sizeof(*(arr))); \
			if (p_ == NULL) \
				return eakte_error__oom("verifying disposals"); \
			(arr) = p_; \
			(cap) = nc_; \
		} \
	} while (0)

int eakte_lifev__new(eakte_lifev **out)
{
	eakte_lifev *lv = calloc(1, sizeof(*lv));

	*out = NULL;
	if (lv == NULL || (lv->aktes = json_object()) == NULL) {
		free(lv);
		return eakte_error__oom("verifying disposals");
	}
	*out = lv;
	return 0;
}

void eakte_lifev__free(eakte_lifev *lv)
{
	if (lv == NULL)
		return;
	for (size_t i = 0; i < lv->ndisps; i++)
		json_decref(lv->disps[i].root);
	json_decref(lv->aktes);
	free(lv->files);
	free(lv->metas);
	free(lv->props);
	free(lv->disps);
	free(lv->gone_docs);
	free(lv->gone_metas);
	free(lv->doc_akte);
	free(lv);
}

static int akte_no(eakte_lifev *lv, const char *az, uint32_t *out)
{
	json_t *n = json_object_get(lv->aktes, az);

	if (n == NULL) {
		n = json_integer((json_int_t)json_object_size(lv->aktes));
		if (n == NULL || json_object_set_new(lv->aktes, az, n) < 0)
			return eakte_error__oom("verifying disposals");
	}
	*out = (uint32_t)json_integer_value(n);
	return 0;
}

static int hex32(uint8_t out[EAKTE_HASH_LEN], const json_t *s)
{
	const char *h = json_string_value(s);

	return h != NULL && eakte_hex__decode(out, EAKTE_HASH_LEN, h, strlen(h)) == 0 ? 0 : -1;
}

int eakte_lifev__event(eakte_lifev *lv, const eakte_ev *ev)
{
	const char *az = json_string_value(json_object_get(ev->root, "akte"));
	const char *a = ev->action;
	int rc;

	if (strcmp(a, "file") == 0) {
		eakte_ev_file f;
		lv_file *x;
		if (eakte_event__file_refs(&f, ev) < 0)
			return 0;   /* verify.c names a malformed file event */
		GROW(lv->files, lv->nfiles, lv->capfiles);
		x = &lv->files[lv->nfiles];
		snprintf(x->doc, sizeof(x->doc), "%s", f.doc);
		x->version = f.version;
		x->seq = ev->seq;
		memcpy(x->content, f.content_sha256, EAKTE_HASH_LEN);
		memcpy(x->meta, f.meta_sha256, EAKTE_HASH_LEN);
		if ((rc = akte_no(lv, f.akte, &x->akte)) < 0)
			return rc;
		lv->nfiles++;
	} else if (strcmp(a, "meta") == 0 || strcmp(a, "akte-create") == 0 || strcmp(a, "vorgang-create") == 0) {
		const char *doc = json_string_value(json_object_get(ev->root, "doc"));
		lv_meta *m;
		GROW(lv->metas, lv->nmetas, lv->capmetas);
		m = &lv->metas[lv->nmetas];
		memset(m, 0, sizeof(*m));
		m->seq = ev->seq;
		if (hex32(m->sha, json_object_get(json_object_get(ev->root, "meta"), "sha256")) < 0)
			return 0;   /* verify.c names a malformed reference */
		if (a[0] == 'm') {
			if (doc == NULL)
				return 0;
			snprintf(m->doc, sizeof(m->doc), "%s", doc);
			m->akte = UINT32_MAX;
		} else if (az == NULL || (rc = akte_no(lv, az, &m->akte)) < 0) {
			return az == NULL ? 0 : rc;
		}
		lv->nmetas++;
	} else if (strcmp(a, "dispose-propose") == 0 && az != NULL) {
		lv_prop *p;
		GROW(lv->props, lv->nprops, lv->capprops);
		p = &lv->props[lv->nprops];
		p->seq = ev->seq;
		snprintf(p->actor, sizeof(p->actor), "%s", ev->actor);
		if ((rc = akte_no(lv, az, &p->akte)) < 0)
			return rc;
		lv->nprops++;
	} else if (strcmp(a, "dispose") == 0) {
		GROW(lv->disps, lv->ndisps, lv->capdisps);
		lv->disps[lv->ndisps].seq = ev->seq;
		lv->disps[lv->ndisps].root = json_incref(ev->root);
		lv->ndisps++;
	}
	return 0;
}

/* ---- the check ---- */

typedef struct {
	char doc[EAKTE_ID_LEN + 1];
	int64_t version;
	uint8_t content[EAKTE_HASH_LEN], meta[EAKTE_HASH_LEN];
} want_doc;

static int cmp_want_doc(const void *x, const void *y)
{
	const want_doc *a = x, *b = y;
	int c = strcmp(a->doc, b->doc);

	return c ? c : (a->version > b->version) - (a->version < b->version);
}

typedef struct {
	uint64_t seq;
	uint8_t sha[EAKTE_HASH_LEN];
} want_meta;

static int cmp_want_meta(const void *x, const void *y)
{
	const want_meta *a = x, *b = y;

	return (a->seq > b->seq) - (a->seq < b->seq);
}

static int cmp_gone_doc(const void *x, const void *y)
{
	return strcmp(((const lv_gone_doc *)x)->doc, ((const lv_gone_doc *)y)->doc);
}

static int cmp_gone_meta(const void *x, const void *y)
{
	const lv_gone_meta *a = x, *b = y;

	return (a->seq > b->seq) - (a->seq < b->seq);
}

/* The Akte of document doc (a document never changes its Akte). */
static int doc_akte(const eakte_lifev *lv, const char *doc, uint32_t *akte)
{
	lv_gone_doc key;
	const lv_gone_doc *g;

	snprintf(key.doc, sizeof(key.doc), "%s", doc);
	g = bsearch(&key, lv->doc_akte, lv->nfiles, sizeof(key), cmp_gone_doc);
	if (g == NULL)
		return 0;
	*akte = (uint32_t)g->dseq;
	return 1;
}

static int check_one(eakte_lifev *lv, const lv_disp *d, char *msg, size_t len)
{
	const json_t *root = d->root, *removed = json_object_get(root, "removed"), *e;
	const json_t *rdocs = json_object_get(removed, "docs"), *rmetas = json_object_get(removed, "metas");
	const char *az = json_string_value(json_object_get(root, "akte"));
	const char *actor = json_string_value(json_object_get(root, "actor"));
	const char *proposed_by = json_string_value(json_object_get(root, "proposed_by"));
	json_t *n = az ? json_object_get(lv->aktes, az) : NULL;
	want_doc *wd = NULL, *gd = NULL;
	want_meta *wm = NULL, *gm = NULL;
	size_t nwd = 0, nwm = 0, ngd, ngm, i;
	json_int_t proposal = json_integer_value(json_object_get(root, "proposal"));
	uint32_t akte;
	char u1[32], u2[32];
	const lv_prop *p = NULL;
	int bad = 0;

	if (az == NULL || actor == NULL || proposed_by == NULL || !json_is_array(rdocs) || !json_is_array(rmetas) ||
	    !json_is_integer(json_object_get(root, "proposal"))) {
		snprintf(msg, len, "event %" PRIu64 ": a dispose event without akte, proposal, proposed_by or removed "
			"{docs, metas}", d->seq);
		return 1;
	}
	if (n == NULL) {
		snprintf(msg, len, "event %" PRIu64 ": disposes of Akte %s, which no earlier event created or filed into",
			d->seq, az);
		return 1;
	}
	akte = (uint32_t)json_integer_value(n);
	/* Four eyes: the proposal exists, concerns this Akte, came first and
	 * was made by someone else. */
	for (i = 0; i < lv->nprops; i++)
		if ((json_int_t)lv->props[i].seq == proposal)
			p = &lv->props[i];
	if (p == NULL || p->seq >= d->seq) {
		snprintf(msg, len, "event %" PRIu64 ": dispose of Akte %s names proposal %lld, which is no earlier "
			"dispose-propose event", d->seq, az, (long long)proposal);
		return 1;
	}
	if (p->akte != akte) {
		snprintf(msg, len, "event %" PRIu64 ": dispose of Akte %s names proposal %lld, which proposed another Akte",
			d->seq, az, (long long)proposal);
		return 1;
	}
	if (strcmp(p->actor, proposed_by) != 0) {
		snprintf(msg, len, "event %" PRIu64 ": proposed_by is %s, but proposal %lld was made by %s", d->seq,
			proposed_by, (long long)proposal, p->actor);
		return 1;
	}
	if (strcmp(actor, p->actor) == 0 || (eakte_life__uid_of(actor, u1, sizeof(u1)) &&
	    eakte_life__uid_of(p->actor, u2, sizeof(u2)) && strcmp(u1, u2) == 0) ||
	    strncmp(actor, "hotfolder:", 10) == 0 || strncmp(p->actor, "hotfolder:", 10) == 0) {
		snprintf(msg, len, "event %" PRIu64 ": the disposal of Akte %s was proposed (event %lld, %s) and approved "
			"(%s) by the same person or by a hotfolder: the four-eyes principle was broken", d->seq, az,
			(long long)proposal, p->actor, actor);
		return 1;
	}
	for (i = 0; i < lv->ndisps && lv->disps[i].seq < d->seq; i++) {
		const char *o = json_string_value(json_object_get(lv->disps[i].root, "akte"));
		if (o != NULL && strcmp(o, az) == 0) {
			snprintf(msg, len, "event %" PRIu64 ": Akte %s was already disposed of by event %" PRIu64, d->seq, az,
				lv->disps[i].seq);
			return 1;
		}
	}
	/* What the journal says was filed for the Akte before the event. */
	ngd = json_array_size(rdocs);
	ngm = json_array_size(rmetas);
	wd = calloc(lv->nfiles + 1, sizeof(*wd));
	wm = calloc(lv->nmetas + 1, sizeof(*wm));
	gd = calloc(ngd + 1, sizeof(*gd));
	gm = calloc(ngm + 1, sizeof(*gm));
	if (wd == NULL || wm == NULL || gd == NULL || gm == NULL) {
		free(wd);
		free(wm);
		free(gd);
		free(gm);
		return eakte_error__oom("verifying a disposal");
	}
	for (i = 0; i < lv->nfiles; i++) {
		const lv_file *f = &lv->files[i];
		if (f->akte != akte || f->seq >= d->seq)
			continue;
		memcpy(wd[nwd].doc, f->doc, sizeof(f->doc));
		wd[nwd].version = f->version;
		memcpy(wd[nwd].content, f->content, EAKTE_HASH_LEN);
		memcpy(wd[nwd].meta, f->meta, EAKTE_HASH_LEN);
		nwd++;
	}
	for (i = 0; i < lv->nmetas; i++) {
		const lv_meta *m = &lv->metas[i];
		uint32_t ma = m->akte;
		if (m->seq >= d->seq)
			continue;
		if (ma == UINT32_MAX && !doc_akte(lv, m->doc, &ma))
			continue;
		if (ma != akte)
			continue;
		wm[nwm].seq = m->seq;
		memcpy(wm[nwm].sha, m->sha, EAKTE_HASH_LEN);
		nwm++;
	}
	json_array_foreach(rdocs, i, e) {
		const char *doc = json_string_value(json_object_get(e, "doc"));
		if (doc == NULL || strlen(doc) != EAKTE_ID_LEN || !json_is_integer(json_object_get(e, "version")) ||
		    hex32(gd[i].content, json_object_get(e, "content")) < 0 || hex32(gd[i].meta, json_object_get(e, "meta")) < 0) {
			snprintf(msg, len, "event %" PRIu64 ": removed.docs[%zu] is malformed", d->seq, i);
			bad = 1;
			goto out;
		}
		memcpy(gd[i].doc, doc, EAKTE_ID_LEN + 1);
		gd[i].version = json_integer_value(json_object_get(e, "version"));
	}
	json_array_foreach(rmetas, i, e) {
		if (!json_is_integer(json_object_get(e, "seq")) || hex32(gm[i].sha, json_object_get(e, "sha256")) < 0) {
			snprintf(msg, len, "event %" PRIu64 ": removed.metas[%zu] is malformed", d->seq, i);
			bad = 1;
			goto out;
		}
		gm[i].seq = (uint64_t)json_integer_value(json_object_get(e, "seq"));
	}
	qsort(wd, nwd, sizeof(*wd), cmp_want_doc);
	qsort(gd, ngd, sizeof(*gd), cmp_want_doc);
	qsort(wm, nwm, sizeof(*wm), cmp_want_meta);
	qsort(gm, ngm, sizeof(*gm), cmp_want_meta);
	for (i = 0; i < nwd || i < ngd; i++) {
		if (i >= ngd) {
			snprintf(msg, len, "event %" PRIu64 ": the disposal of Akte %s does not list document %s version %lld, "
				"which was filed into it", d->seq, az, wd[i].doc, (long long)wd[i].version);
			bad = 1;
		} else if (i >= nwd || cmp_want_doc(&wd[i], &gd[i]) != 0) {
			snprintf(msg, len, "event %" PRIu64 ": the disposal of Akte %s lists document %s version %lld, which "
				"the journal did not file into it (or not in that order)", d->seq, az, gd[i].doc,
				(long long)gd[i].version);
			bad = 1;
		} else if (memcmp(wd[i].content, gd[i].content, EAKTE_HASH_LEN) != 0 ||
			   memcmp(wd[i].meta, gd[i].meta, EAKTE_HASH_LEN) != 0) {
			snprintf(msg, len, "event %" PRIu64 ": the disposal of Akte %s lists document %s version %lld with "
				"hashes other than its filing event's", d->seq, az, gd[i].doc, (long long)gd[i].version);
			bad = 1;
		}
		if (bad)
			goto out;
	}
	for (i = 0; i < nwm || i < ngm; i++) {
		if (i >= ngm || (i < nwm && wm[i].seq < gm[i].seq)) {
			snprintf(msg, len, "event %" PRIu64 ": the disposal of Akte %s does not list the metadata object of "
				"event %" PRIu64, d->seq, az, wm[i].seq);
			bad = 1;
		} else if (i >= nwm || wm[i].seq != gm[i].seq) {
			snprintf(msg, len, "event %" PRIu64 ": the disposal of Akte %s lists a metadata object of event %" PRIu64
				", which is no metadata event of that Akte", d->seq, az, gm[i].seq);
			bad = 1;
		} else if (memcmp(wm[i].sha, gm[i].sha, EAKTE_HASH_LEN) != 0) {
			snprintf(msg, len, "event %" PRIu64 ": the disposal of Akte %s lists the metadata object of event %"
				PRIu64 " with another SHA-256 than that event", d->seq, az, gm[i].seq);
			bad = 1;
		}
		if (bad)
			goto out;
	}
	/* Excused from here on. */
	{
		lv_gone_doc *g = realloc(lv->gone_docs, (lv->ngone_docs + ngd + 1) * sizeof(*g));
		lv_gone_meta *h = realloc(lv->gone_metas, (lv->ngone_metas + ngm + 1) * sizeof(*h));
		if (g != NULL)
			lv->gone_docs = g;
		if (h != NULL)
			lv->gone_metas = h;
		if (g == NULL || h == NULL) {
			bad = eakte_error__oom("verifying a disposal");
			goto out;
		}
		for (i = 0; i < ngd; i++) {
			memcpy(g[lv->ngone_docs].doc, gd[i].doc, EAKTE_ID_LEN + 1);
			g[lv->ngone_docs++].dseq = d->seq;
		}
		for (i = 0; i < ngm; i++) {
			h[lv->ngone_metas].seq = gm[i].seq;
			h[lv->ngone_metas++].dseq = d->seq;
		}
	}
out:
	free(wd);
	free(wm);
	free(gd);
	free(gm);
	return bad;
}

int eakte_lifev__check(eakte_lifev *lv, char *msg, size_t len, int64_t *seq)
{
	if (lv->ndisps == 0)
		return 0;
	lv->doc_akte = calloc(lv->nfiles + 1, sizeof(*lv->doc_akte));
	if (lv->doc_akte == NULL)
		return eakte_error__oom("verifying disposals");
	for (size_t i = 0; i < lv->nfiles; i++) {
		memcpy(lv->doc_akte[i].doc, lv->files[i].doc, EAKTE_ID_LEN + 1);
		lv->doc_akte[i].dseq = lv->files[i].akte;
	}
	qsort(lv->doc_akte, lv->nfiles, sizeof(*lv->doc_akte), cmp_gone_doc);
	for (size_t i = 0; i < lv->ndisps; i++) {
		int r = check_one(lv, &lv->disps[i], msg, len);
		if (r != 0) {
			*seq = (int64_t)lv->disps[i].seq;
			return r;
		}
	}
	qsort(lv->gone_docs, lv->ngone_docs, sizeof(*lv->gone_docs), cmp_gone_doc);
	qsort(lv->gone_metas, lv->ngone_metas, sizeof(*lv->gone_metas), cmp_gone_meta);
	return 0;
}

uint64_t eakte_lifev__doc_disposed(const eakte_lifev *lv, const char *doc)
{
	lv_gone_doc key;
	const lv_gone_doc *g;

	if (lv == NULL || lv->ngone_docs == 0)
		return 0;
	snprintf(key.doc, sizeof(key.doc), "%s", doc);
	g = bsearch(&key, lv->gone_docs, lv->ngone_docs, sizeof(key), cmp_gone_doc);
	return g ? g->dseq : 0;
}

uint64_t eakte_lifev__meta_disposed(const eakte_lifev *lv, uint64_t seq)
{
	lv_gone_meta key = { seq, 0 };
	const lv_gone_meta *g;

	if (lv == NULL || lv->ngone_metas == 0)
		return 0;
	g = bsearch(&key, lv->gone_metas, lv->ngone_metas, sizeof(key), cmp_gone_meta);
	return g ? g->dseq : 0;
}
