/*
 * eakte.h - public API of libeakte, the revisionssichere eAkte.
 *
 * libeakte files documents into an append-only archive, records every
 * action in a signed, hash-chained journal and lets anyone verify the
 * result.  The archive format is described in docs/format.md, the
 * verification contract in docs/verification.md.
 *
 * Conventions (see docs/api.md):
 *  - A fallible function returns int: 0 on success or a negative
 *    EAKTE_E* code.  eakte_error_last() then describes what failed, on
 *    what, and what to do.  The text is per thread and valid until the
 *    next failing call on that thread.
 *  - "T **out" parameters come first; on success the caller owns *out and
 *    frees it with the matching _free function, on failure *out is NULL.
 *    Every _free function accepts NULL.
 *  - Strings returned as "const char *" are borrowed from the object they
 *    were read from and live as long as it.
 *  - Option structs carry a version field; initialise them with the
 *    matching *_INIT macro so that later fields get defaults.
 *  - The library never prints, never exits and never reads user
 *    configuration.
 *
 * Thread safety: an eakte_archive handle may be used by one thread at a
 * time.  Different handles may be used concurrently.
 */
#ifndef EAKTE_EAKTE_H
#define EAKTE_EAKTE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(EAKTE_BUILDING_LIBRARY)
#define EAKTE_EXTERN __attribute__((visibility("default")))
#else
#define EAKTE_EXTERN
#endif

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/** Error codes.  0 is success; every error is negative. */
enum eakte_error_code {
	EAKTE_OK = 0,
	EAKTE_ENOTFOUND = -1,  /**< document, event, archive or file missing */
	EAKTE_EEXISTS = -2,    /**< the thing to create already exists */
	EAKTE_EINVALID = -3,   /**< bad argument or malformed input */
	EAKTE_ELOCKED = -4,    /**< another writer holds the archive lock */
	EAKTE_ECORRUPT = -5,   /**< stored data does not match its hash */
	EAKTE_ESIGNATURE = -6, /**< a signature is missing or does not verify */
	EAKTE_EPOLICY = -7,    /**< refused by policy (permissions, retention) */
	EAKTE_EVERSION = -8,   /**< unsupported format version */
	EAKTE_EIO = -9,        /**< operating-system or storage error */
	EAKTE_ENOMEM = -10,    /**< out of memory */
	EAKTE_EVERIFY = -11    /**< a verification found a bad event or object */
};

/** Text describing the last error on this thread ("" if none). */
EAKTE_EXTERN const char *eakte_error_last(void);

/** Short stable name of an error code, e.g. "not-found". */
EAKTE_EXTERN const char *eakte_error_name(int code);

/** Library version as "MAJOR.MINOR.PATCH". */
EAKTE_EXTERN const char *eakte_version(void);

/* ------------------------------------------------------------------ */
/* Archive                                                             */
/* ------------------------------------------------------------------ */

typedef struct eakte_archive eakte_archive;

/** Length of a document id in characters (a UUIDv7, lowercase). */
#define EAKTE_ID_LEN 36

/** Options for eakte_archive_init(). */
typedef struct {
	unsigned int version;
	/** Checkpoint origin (the log's name), e.g. "stadt-musterstadt.de/eakte".
	 *  NULL: "eakte/<hostname>-<random>".  No spaces, no '+'. */
	const char *origin;
	/** The actor recorded in the genesis event; NULL: the calling Unix user. */
	const char *actor;
} eakte_init_options;
#define EAKTE_INIT_OPTIONS_VERSION 1
#define EAKTE_INIT_OPTIONS_INIT { EAKTE_INIT_OPTIONS_VERSION, NULL, NULL }

/**
 * Create a new archive in directory `path` (created if missing, must be
 * empty if present): store.git, keys/ with a fresh Ed25519 key, the
 * genesis event and the first checkpoint.
 * Returns EAKTE_EEXISTS if an archive (or anything else) is already there.
 */
EAKTE_EXTERN int eakte_archive_init(const char *path, const eakte_init_options *opts);

/** Open flags. */
#define EAKTE_OPEN_READ 0u   /**< read only, no lock */
#define EAKTE_OPEN_WRITE 1u  /**< take the single-writer lock (EAKTE_ELOCKED if held) */
/** With EAKTE_OPEN_READ: bring the index's records up to date but leave
 *  the text of new documents to someone else (a daemon's extractor), so
 *  that a read never waits for text extraction. */
#define EAKTE_OPEN_NO_EXTRACT 2u
/** With EAKTE_OPEN_WRITE: a commit leaves the work that follows its commit
 *  point (flushing the state reference, merging small packs, bringing the
 *  index up to date) to
 *  eakte_archive_tidy(), so that the caller can acknowledge first and tidy
 *  while it waits for more work (eakted does, between group commits). */
#define EAKTE_OPEN_DEFER_TIDY 4u

/**
 * Open the archive in `path`.  With EAKTE_OPEN_WRITE the writer lock is
 * taken and anything a crash left unfinished is completed (state tree,
 * checkpoint).  The signing key is refused (EAKTE_EPOLICY) if group or
 * others can read it.
 */
EAKTE_EXTERN int eakte_archive_open(eakte_archive **out, const char *path, unsigned int flags);

/** Close the archive and release the lock.  Accepts NULL. */
EAKTE_EXTERN void eakte_archive_free(eakte_archive *archive);

/** The checkpoint origin of this archive (borrowed). */
EAKTE_EXTERN const char *eakte_archive_origin(const eakte_archive *archive);

/** Number of events in the journal (the next event gets this seq). */
EAKTE_EXTERN uint64_t eakte_archive_size(const eakte_archive *archive);

/**
 * A warning left by the last write on this handle ("" if none): the write
 * succeeded, but something derived did not follow (e.g. the index could
 * not be updated and catches up on the next open).  Also set when a
 * missing or corrupt index was rebuilt.
 */
EAKTE_EXTERN const char *eakte_archive_warning(const eakte_archive *archive);

/**
 * Do what commits on a handle opened with EAKTE_OPEN_DEFER_TIDY left:
 * flush the directory of the state reference (so that the state, not only
 * the journal, survives a power failure; without it the next writer would
 * rebuild the state from the journal), merge small packs and bring the
 * index up to date.  Cheap when there is nothing to do.  The commits are durable already: a failure here is only
 * a warning (eakte_archive_warning(); the next tidy or open tries again),
 * so this returns 0 unless the handle is not a writer (EAKTE_EINVALID).
 */
EAKTE_EXTERN int eakte_archive_tidy(eakte_archive *archive);

/**
 * Rebuild the index (index.sqlite) from the journal alone and extract all
 * text again.  Needs the archive open for writing.
 */
EAKTE_EXTERN int eakte_reindex(eakte_archive *archive);

/* ------------------------------------------------------------------ */
/* Filing                                                              */
/* ------------------------------------------------------------------ */

typedef struct eakte_batch eakte_batch;

/** Descriptive data of one document to be filed. */
typedef struct {
	unsigned int version;
	const char *akte;         /**< Aktenzeichen; required */
	const char *title;        /**< NULL: the file name */
	const char *filename;     /**< original name; NULL: basename of the path */
	const char *const *meta;  /**< "KEY=VALUE" strings, meta_count of them */
	size_t meta_count;
	const char *actor;        /**< NULL: the calling Unix user */
	/* version 2: */
	int64_t vorgang;          /**< Vorgang number in the Akte, 0: none */
	/** Document id: file a new version of that document (it keeps its
	 *  id; the old version stays unchanged).  akte may then be NULL;
	 *  title and metadata default to the current ones, given metadata
	 *  entries are changed or added. */
	const char *new_version_of;
	/* version 3: */
	/** How messages name the document given as a descriptor (the
	 *  client's path, for the daemon); NULL: "descriptor N". */
	const char *label;
} eakte_file_options;
#define EAKTE_FILE_OPTIONS_VERSION 3
#define EAKTE_FILE_OPTIONS_INIT { EAKTE_FILE_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL }

/** Limits on descriptive data (bytes). */
#define EAKTE_MAX_TITLE 4096
#define EAKTE_MAX_META_KEY 128
#define EAKTE_MAX_META_VALUE 65536
#define EAKTE_MAX_META_COUNT 256

/** Start a batch of documents; they become one group commit.  The
 *  archive must be open for writing.
 *  Documents are refused when their Akte does not exist (EAKTE_ENOTFOUND)
 *  or is closed (EAKTE_EPOLICY), and at commit when their detected MIME
 *  type is not allowed by the archive's format policy (EAKTE_EPOLICY,
 *  eakte.conf [policy] formats). */
EAKTE_EXTERN int eakte_batch_new(eakte_batch **out, eakte_archive *archive);

/**
 * Add the regular file at `path` to the batch.  Its content is streamed
 * into the store at once (hashed, written and synced); the document is
 * not part of the archive until eakte_batch_commit() succeeds.
 * On success `id_out` (EAKTE_ID_LEN + 1 bytes) receives the document id.
 */
EAKTE_EXTERN int eakte_batch_add_path(eakte_batch *batch, const char *path,
	const eakte_file_options *opts, char id_out[EAKTE_ID_LEN + 1]);

/** Like eakte_batch_add_path() for an open descriptor of a regular file,
 *  read from its current offset to its end.  The descriptor stays owned
 *  by the caller. */
EAKTE_EXTERN int eakte_batch_add_fd(eakte_batch *batch, int fd,
	const eakte_file_options *opts, char id_out[EAKTE_ID_LEN + 1]);

/** Content stored ahead of filing; see eakte_stage_fd(). */
typedef struct eakte_staged eakte_staged;

/**
 * Store the content of the regular file `fd` (from its current offset to
 * its end, as eakte_batch_add_fd() reads it) in the archive's object store
 * now, without filing it: read, hash, detect
 * the type, write.  For servers that receive documents on several threads:
 * any number of threads may stage at once on one handle, also while
 * another thread commits a batch on it, so that the committing thread
 * only commits (eakte_batch_add_staged()).  The handle must be open for
 * writing and stay open meanwhile.  `label` names the document in
 * messages (NULL: "descriptor N").  The staged content keeps a duplicate
 * of the descriptor until eakte_staged_free().  Content staged but never
 * filed is an unreferenced object, which is harmless.
 */
EAKTE_EXTERN int eakte_stage_fd(eakte_staged **out, eakte_archive *archive, int fd, const char *label);

/**
 * Like eakte_batch_add_fd() for content staged on the same handle: it is
 * not read again, and the batch makes it durable with the rest at commit.
 * The same staged content may be added to a later batch again (to retry
 * after a failed commit).  Should its object have gone meanwhile (a
 * disposal of the same bytes in between), the descriptor is read again;
 * if it no longer holds the same bytes, EAKTE_EINVALID.
 */
EAKTE_EXTERN int eakte_batch_add_staged(eakte_batch *batch, const eakte_staged *staged,
	const eakte_file_options *opts, char id_out[EAKTE_ID_LEN + 1]);

/** Free staged content (filed or not).  Accepts NULL. */
EAKTE_EXTERN void eakte_staged_free(eakte_staged *staged);

/**
 * Bring the index up to date with the journal and extract and index the
 * text of documents whose text is not yet in the full-text index (at most
 * `max` documents, 0 = all).  Works on an archive opened for reading too
 * (when the index is writable), so that a daemon can extract beside its
 * writer.  Returns the number of documents whose text was handled (so 0
 * when nothing is pending), or an error.  eakte_batch_commit() returns as soon as the
 * batch is durable and leaves this to the caller, so that documents are
 * acknowledged without waiting for the index; the CLI runs it after
 * printing the document ids.  (Any later open also catches the index up.)
 */
EAKTE_EXTERN int eakte_extract_pending(eakte_archive *archive, size_t max);

/** Number of documents added so far. */
EAKTE_EXTERN size_t eakte_batch_count(const eakte_batch *batch);

/**
 * Make the batch durable: one signed journal commit per document, the
 * journal ref moved once, a new signed checkpoint.  On success every
 * document of the batch is filed.  On failure normally none is and the
 * message ends "nothing of this batch was filed"; but a failure after the
 * commit point (the journal moved, then a flush or the state failed) has
 * filed all of them, says so, and eakte_batch_filed() returns 1: do not
 * file those documents again.  The index is not updated here: see
 * eakte_extract_pending().
 */
EAKTE_EXTERN int eakte_batch_commit(eakte_batch *batch);

/** 1 if the batch's documents are in the journal: after eakte_batch_commit()
 *  succeeded, or failed after its commit point; 0 otherwise. */
EAKTE_EXTERN int eakte_batch_filed(const eakte_batch *batch);

/** Free a batch; an uncommitted batch is discarded.  Accepts NULL. */
EAKTE_EXTERN void eakte_batch_free(eakte_batch *batch);

/* ------------------------------------------------------------------ */
/* Documents                                                           */
/* ------------------------------------------------------------------ */

typedef struct eakte_doc eakte_doc;

/** Look up document `id` (latest version).  EAKTE_ENOTFOUND if unknown. */
EAKTE_EXTERN int eakte_doc_lookup(eakte_doc **out, eakte_archive *archive, const char *id);
/** Look up one version (1, 2, ...) of document `id`. */
EAKTE_EXTERN int eakte_doc_lookup_version(eakte_doc **out, eakte_archive *archive, const char *id,
	unsigned int version);
EAKTE_EXTERN void eakte_doc_free(eakte_doc *doc);

EAKTE_EXTERN const char *eakte_doc_id(const eakte_doc *doc);
EAKTE_EXTERN const char *eakte_doc_akte(const eakte_doc *doc);
EAKTE_EXTERN const char *eakte_doc_title(const eakte_doc *doc);
EAKTE_EXTERN const char *eakte_doc_filename(const eakte_doc *doc);
EAKTE_EXTERN const char *eakte_doc_mime(const eakte_doc *doc);
EAKTE_EXTERN const char *eakte_doc_sha256(const eakte_doc *doc);  /**< lowercase hex */
EAKTE_EXTERN uint64_t eakte_doc_size(const eakte_doc *doc);
EAKTE_EXTERN unsigned int eakte_doc_version(const eakte_doc *doc);
EAKTE_EXTERN uint64_t eakte_doc_seq(const eakte_doc *doc);        /**< filing event */
EAKTE_EXTERN const char *eakte_doc_filed_at(const eakte_doc *doc); /**< RFC 3339 UTC */
EAKTE_EXTERN const char *eakte_doc_actor(const eakte_doc *doc);
EAKTE_EXTERN size_t eakte_doc_meta_count(const eakte_doc *doc);
/** KEY and VALUE of metadata entry `i` (sorted by key). */
EAKTE_EXTERN int eakte_doc_meta(const eakte_doc *doc, size_t i, const char **key, const char **value);

/** The document as JSON (schema/doc-v1.schema.json); caller frees with eakte_free(). */
EAKTE_EXTERN int eakte_doc_to_json(char **out, const eakte_doc *doc);

/**
 * Write the content of `doc` to `fd`, re-checking its SHA-256 on the way.
 * EAKTE_ECORRUPT if the stored bytes do not match (bytes already written
 * to fd must then be discarded by the caller).
 */
EAKTE_EXTERN int eakte_doc_read_to_fd(eakte_archive *archive, const eakte_doc *doc, int fd);

/** Free memory returned by libeakte as char * (accepts NULL). */
EAKTE_EXTERN void eakte_free(void *ptr);

/* ------------------------------------------------------------------ */
/* Records structure: Aktenplan, Akten, Vorgänge, metadata changes     */
/* ------------------------------------------------------------------ */

/**
 * Import an Aktenplan file (CSV or JSON, docs/aktenplan.md) given as
 * bytes; `name` names it in messages.  All entries become one journal
 * event; existing codes are updated.  *count receives the entries.
 */
EAKTE_EXTERN int eakte_plan_import(eakte_archive *archive, const char *buf, size_t len, const char *name,
	const char *actor, size_t *count);

/** Options for eakte_akte_create(). */
typedef struct {
	unsigned int version;
	const char *plan;    /**< Aktenplan code; required */
	const char *title;   /**< NULL: "" */
	const char *az;      /**< NULL: generate <plan>-<year>/<serial> (serials never reused) */
	const char *actor;   /**< NULL: the calling Unix user */
} eakte_akte_options;
#define EAKTE_AKTE_OPTIONS_VERSION 1
#define EAKTE_AKTE_OPTIONS_INIT { EAKTE_AKTE_OPTIONS_VERSION, NULL, NULL, NULL, NULL }

/** Create an Akte; *az_out (free with eakte_free()) gets its Aktenzeichen.
 *  EAKTE_ENOTFOUND for an unknown plan code, EAKTE_EEXISTS if it exists. */
EAKTE_EXTERN int eakte_akte_create(eakte_archive *archive, const eakte_akte_options *opts, char **az_out);

/** Create the next Vorgang (1, 2, ...) in Akte `az`; *n_out gets its number. */
EAKTE_EXTERN int eakte_vorgang_create(eakte_archive *archive, const char *az, const char *title,
	const char *actor, int64_t *n_out);

/** Close Akte `az` (zdA) on `date` (YYYY-MM-DD, NULL: today).  Nothing can
 *  be filed into a closed Akte.  EAKTE_EPOLICY if it is closed already. */
EAKTE_EXTERN int eakte_akte_close(eakte_archive *archive, const char *az, const char *date, const char *actor);

/** Reopen a closed Akte.  EAKTE_EPOLICY if it is open. */
EAKTE_EXTERN int eakte_akte_reopen(eakte_archive *archive, const char *az, const char *actor);

/**
 * Change the metadata of document `doc`: "KEY=VALUE" items set, "KEY="
 * removes; `title` (or NULL) replaces the title.  Recorded as one event;
 * earlier metadata stays in the journal's history.
 */
EAKTE_EXTERN int eakte_meta_set(eakte_archive *archive, const char *doc, const char *title,
	const char *const *items, size_t count, const char *actor);

/**
 * Record in the journal that `actor` was refused `op` (a short name such
 * as "file") for `reason`: a "refused" event, so that attempts without
 * permission leave a trace an auditor can see.  Changes nothing else.
 */
EAKTE_EXTERN int eakte_journal_refusal(eakte_archive *archive, const char *actor, const char *op,
	const char *reason);

/* ------------------------------------------------------------------ */
/* Retention, legal holds, four-eyes disposal (docs/retention.md)       */
/* ------------------------------------------------------------------ */

/*
 * Retention (Aufbewahrungsfrist) of an Akte: the latest retention set on
 * it with eakte_retention_set(), else its Aktenplan code's.  Open Akten
 * never expire.  For an Akte closed (zdA) in year Y with N years the
 * retention ends on Y+N-12-31 and the Akte is due for disposal from
 * Y+N+1-01-01 on.  "unbefristet" never ends.
 *
 * Reasons are kept forever in the journal (they outlive the record, as
 * its Löschprotokoll): one line, at most 1024 bytes, and they must not
 * contain personal data.  `actor` NULL means the calling Unix user; a
 * daemon passes its peer's identity.
 */

/** Retention value meaning "unbefristet" (never ends). */
#define EAKTE_RETENTION_UNBEFRISTET (-1)

/** Set the retention of Akte `az` to `years` (0..200) or
 *  EAKTE_RETENTION_UNBEFRISTET, for `reason` (required).  A
 *  retention-set event; EAKTE_EPOLICY for a disposed Akte. */
EAKTE_EXTERN int eakte_retention_set(eakte_archive *archive, const char *az, int years, const char *reason,
	const char *actor);

/** The retention of Akte `az` as JSON: the years and how they were derived
 *  (plan code or the retention-set event), the zdA date, the end date,
 *  the archival value, active holds, disposal.  Free with eakte_free(). */
EAKTE_EXTERN int eakte_retention_json(char **out, eakte_archive *archive, const char *az);

/** The Akten whose retention has ended before `at` (YYYY-MM-DD; NULL:
 *  today), with archival value, holds, exports and open proposals, as
 *  JSON.  Disposed Akten are not listed. */
EAKTE_EXTERN int eakte_retention_due_json(char **out, eakte_archive *archive, const char *at);

/** Put a legal hold (Löschsperre) on Akte `az`; `case_id` (may be NULL)
 *  names the case, at most 256 bytes.  *hold_out (may be NULL) gets the
 *  hold's id, the seq of its hold-set event.  Any active hold blocks
 *  disposal. */
EAKTE_EXTERN int eakte_hold_set(eakte_archive *archive, const char *az, const char *reason, const char *case_id,
	const char *actor, uint64_t *hold_out);

/** Release hold `hold` of Akte `az`.  EAKTE_ENOTFOUND if the Akte has no
 *  such hold, EAKTE_EPOLICY if it was released already. */
EAKTE_EXTERN int eakte_hold_release(eakte_archive *archive, const char *az, uint64_t hold, const char *reason,
	const char *actor);

/** Holds as JSON: of Akte `az` (NULL: all Akten); only active ones unless
 *  `all`. */
EAKTE_EXTERN int eakte_hold_list_json(char **out, eakte_archive *archive, const char *az, int all);

/**
 * Propose the disposal of Akte `az` (first of the four eyes).  Refused
 * with EAKTE_EPOLICY and the reason when the Akte is open, its retention
 * has not ended, a hold is active, it has archival value A or B and no
 * export after its zdA, it has an open proposal already, or the actor is a
 * hotfolder.  *proposal_out (may be NULL) gets the proposal's id, the seq
 * of the dispose-propose event.
 */
EAKTE_EXTERN int eakte_dispose_propose(eakte_archive *archive, const char *az, const char *reason, const char *actor,
	uint64_t *proposal_out);

/**
 * Approve proposal `proposal` (second of the four eyes) and dispose of
 * the Akte: the dispose event (the Löschprotokoll: what, why, who proposed,
 * who approved, the hashes of everything removed) and the state without
 * the Akte are one commit; then content and descriptive metadata of every
 * version of every document, and the Akte's and Vorgänge's metadata, are
 * physically removed from store.git and the index.  Refused
 * (EAKTE_EPOLICY, reason named) for the reasons of eakte_dispose_propose()
 * checked again, and when the approver is the proposer (same Unix uid),
 * the proposal is unknown, already approved, or older than the Akte's
 * latest zdA or reopening.  *seq_out (may be NULL) gets the dispose
 * event's seq.  If the removal after the commit point fails, the disposal
 * stands, eakte_archive_warning() says so and the next writer finishes it.
 */
EAKTE_EXTERN int eakte_dispose_approve(eakte_archive *archive, uint64_t proposal, const char *actor,
	uint64_t *seq_out);

/** Open disposal proposals as JSON (with whether each is stale). */
EAKTE_EXTERN int eakte_dispose_list_json(char **out, eakte_archive *archive);

/* ------------------------------------------------------------------ */
/* Reading the records structure (JSON, schemas in schema/)            */
/* ------------------------------------------------------------------ */

/** The Aktenplan (code NULL: all entries; else that entry with its
 *  children and Akten count) as JSON; free with eakte_free(). */
EAKTE_EXTERN int eakte_plan_json(char **out, eakte_archive *archive, const char *code);

/** Akte `az` with its Vorgänge and documents as JSON. */
EAKTE_EXTERN int eakte_akte_json(char **out, eakte_archive *archive, const char *az);

/** Akten as JSON, filtered by plan code (NULL: all) and state
 *  (0 all, 1 open, 2 closed). */
EAKTE_EXTERN int eakte_akte_list_json(char **out, eakte_archive *archive, const char *plan, int state);

/** The whole tree Aktenplan / Akte / Vorgang / Dokument with counts, as JSON. */
EAKTE_EXTERN int eakte_tree_json(char **out, eakte_archive *archive);

/** Every journal event that touched document `doc`, oldest first, as JSON. */
EAKTE_EXTERN int eakte_doc_history_json(char **out, eakte_archive *archive, const char *doc);

/**
 * Is content with this SHA-256 (lowercase hex) filed in Akte `az`, as any
 * version of any document?  Returns 1 and the document id in `id_out`, 0
 * if not, or an error.  For duplicate checks (hotfolders).
 */
EAKTE_EXTERN int eakte_doc_find_content(char id_out[EAKTE_ID_LEN + 1], eakte_archive *archive, const char *az,
	const char *sha256_hex);

/** Index facts about a document: its versions and text extraction status,
 *  as JSON ({"versions":[...],"text":{"status","reason"}, "vorgang"}). */
EAKTE_EXTERN int eakte_doc_index_json(char **out, eakte_archive *archive, const char *doc);

/* ------------------------------------------------------------------ */
/* Search                                                              */
/* ------------------------------------------------------------------ */

/** Options for eakte_search(). */
typedef struct {
	unsigned int version;
	const char *query;        /**< query text (docs/search.md); NULL or "" with filters: list */
	size_t query_len;         /**< bytes of query (it may contain NUL: refused) */
	const char *akte;         /**< Aktenzeichen, exact, or a prefix ending in '*' */
	const char *plan;         /**< Aktenplan code: its Akten and those of its sub-codes */
	const char *from;         /**< document date >= YYYY-MM-DD */
	const char *to;           /**< document date <= YYYY-MM-DD */
	const char *mime;         /**< MIME type, exact, or a family: "image/" and an asterisk */
	const char *const *meta;  /**< "KEY=VALUE" filters, all must match */
	size_t meta_count;
	const char *sort;         /**< "newest" (default), "oldest" or "relevance" */
	size_t limit;             /**< 0: 20 */
	size_t offset;
} eakte_search_options;
#define EAKTE_SEARCH_OPTIONS_VERSION 1
#define EAKTE_SEARCH_OPTIONS_INIT { EAKTE_SEARCH_OPTIONS_VERSION, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, 0 }

/**
 * Search the index.  *out gets JSON (schema/search-v1.schema.json): the
 * hits with snippets, and the total number of matches.  A malformed query
 * or filter is EAKTE_EINVALID with a message saying what is wrong.
 */
EAKTE_EXTERN int eakte_search(char **out, eakte_archive *archive, const eakte_search_options *opts);

/* ------------------------------------------------------------------ */
/* Journal                                                             */
/* ------------------------------------------------------------------ */

/** One journal event as seen by eakte_journal_foreach(). */
typedef struct {
	uint64_t seq;
	const char *json;        /**< canonical event bytes, NUL-terminated */
	size_t json_len;
	const char *action;      /**< e.g. "genesis", "file" */
	const char *time;        /**< RFC 3339 UTC */
	const char *actor;
	const char *subject;     /**< document id or "" */
	const char *leaf_hash;   /**< lowercase hex of SHA-256(0x00 || json) */
	const char *commit;      /**< git commit id (hex) */
} eakte_event;

typedef int (*eakte_event_cb)(const eakte_event *event, void *payload);

/** Call `cb` for every event from `from_seq` on, oldest first.  A non-zero
 *  return from cb stops the walk and is returned. */
EAKTE_EXTERN int eakte_journal_foreach(eakte_archive *archive, uint64_t from_seq,
	eakte_event_cb cb, void *payload);

/* ------------------------------------------------------------------ */
/* Checkpoints and proofs                                              */
/* ------------------------------------------------------------------ */

/** The latest signed checkpoint (C2SP signed note); caller frees with eakte_free(). */
EAKTE_EXTERN int eakte_checkpoint_latest(char **out, eakte_archive *archive);

/** The public verifier key of the archive in C2SP note form
 *  ("origin+keyid+base64"); caller frees with eakte_free(). */
EAKTE_EXTERN int eakte_archive_verifier_key(char **out, eakte_archive *archive);

/** The inclusion proof of event `seq` in the latest checkpoint, in the text
 *  form of docs/verification.md; caller frees with eakte_free(). */
EAKTE_EXTERN int eakte_proof_inclusion(char **out, eakte_archive *archive, uint64_t seq);

/** Result of eakte_proof_verify(). */
typedef struct {
	uint64_t seq;            /**< the event's index */
	uint64_t tree_size;      /**< size of the checkpoint */
	char origin[256];        /**< checkpoint origin */
	char key_id[9];          /**< signer key id, 8 hex digits */
	char action[64];         /**< action of the proven event */
	char subject[64];        /**< subject of the proven event */
} eakte_proof_result;

/**
 * Verify an inclusion proof text against `verifier_key` (C2SP note form).
 * Returns 0 if the event is included in the checkpoint and the checkpoint
 * is signed by that key; EAKTE_EVERIFY (also for a malformed proof) or
 * EAKTE_ESIGNATURE, with a message naming what did not match, otherwise;
 * EAKTE_EINVALID if the verifier key is malformed.
 */
EAKTE_EXTERN int eakte_proof_verify(eakte_proof_result *result, const char *proof, size_t proof_len,
	const char *verifier_key);

/* ------------------------------------------------------------------ */
/* Verification                                                        */
/* ------------------------------------------------------------------ */

/** Options for eakte_verify(). */
typedef struct {
	unsigned int version;
	int quick;                  /**< skip re-hashing content objects */
	const char *since;          /**< an older checkpoint text the journal must extend, or NULL */
	size_t since_len;
	/** Progress: called now and then with what is done and the total (events). */
	void (*progress)(const char *phase, uint64_t done, uint64_t total, void *payload);
	void *payload;
} eakte_verify_options;
#define EAKTE_VERIFY_OPTIONS_VERSION 1
#define EAKTE_VERIFY_OPTIONS_INIT { EAKTE_VERIFY_OPTIONS_VERSION, 0, NULL, 0, NULL, NULL }

typedef struct eakte_verify_report eakte_verify_report;

/**
 * Verify the archive: every event's canonical bytes, seq, prev and
 * signature, the Merkle root against the signed checkpoint, every
 * checkpoint signature, and (unless quick) the SHA-256 of every live
 * content object.  Returns 0 when the verification ran (whether or not it
 * passed: see eakte_verify_report_ok()), or an error when it could not run.
 */
EAKTE_EXTERN int eakte_verify(eakte_verify_report **out, eakte_archive *archive,
	const eakte_verify_options *opts);
EAKTE_EXTERN void eakte_verify_report_free(eakte_verify_report *report);

/** 1 if every check passed. */
EAKTE_EXTERN int eakte_verify_report_ok(const eakte_verify_report *report);
/** The first failure: "event 17: prev expected=… actual=…" ("" if ok). */
EAKTE_EXTERN const char *eakte_verify_report_failure(const eakte_verify_report *report);
/** Counts of what was checked. */
EAKTE_EXTERN uint64_t eakte_verify_report_events(const eakte_verify_report *report);
EAKTE_EXTERN uint64_t eakte_verify_report_objects(const eakte_verify_report *report);
EAKTE_EXTERN uint64_t eakte_verify_report_bytes(const eakte_verify_report *report);
/** The report as JSON (schema/verify-v1.schema.json); caller frees with eakte_free(). */
EAKTE_EXTERN int eakte_verify_report_to_json(char **out, const eakte_verify_report *report);

/* ------------------------------------------------------------------ */
/* Export packages (BagIt 1.0 in tar or zip; docs/format.md)           */
/* ------------------------------------------------------------------ */

/** Package formats. */
#define EAKTE_PACKAGE_TAR 1
#define EAKTE_PACKAGE_ZIP 2
/** A zip that is both an xdomea 3.0.0 Aussonderung message 0503 (the
 *  message and the primary files at the top level, as xdomea wants them)
 *  and a BagIt bag holding the proofs, like EAKTE_PACKAGE_ZIP. */
#define EAKTE_PACKAGE_XDOMEA 3

/** Options for eakte_export_write() and eakte_export(). */
typedef struct {
	unsigned int version;
	const char *akte;    /**< Aktenzeichen; required */
	int format;          /**< EAKTE_PACKAGE_TAR, EAKTE_PACKAGE_ZIP or EAKTE_PACKAGE_XDOMEA */
	const char *actor;   /**< for the export event; NULL: the calling Unix user */
	const char *recipient; /**< xdomea: the public archive receiving it (Kopf/Empfaenger); may be NULL */
} eakte_export_options;
#define EAKTE_EXPORT_OPTIONS_VERSION 1
#define EAKTE_EXPORT_OPTIONS_INIT { EAKTE_EXPORT_OPTIONS_VERSION, NULL, EAKTE_PACKAGE_TAR, NULL, NULL }

/** What an export wrote. */
typedef struct {
	char sha256[65];      /**< of the package file, lowercase hex */
	uint64_t size;        /**< bytes of the package file */
	uint64_t checkpoint;  /**< tree size of the checkpoint in the package */
	uint64_t events;      /**< journal events in the package */
	uint64_t documents;   /**< document versions in the package */
	uint64_t seq;         /**< the export event (eakte_export(), eakte_export_record()) */
	/** After a failed eakte_export_record(): 1 if its event may be in the
	 *  journal all the same (an I/O error at the commit point hid whether
	 *  it got there).  Keep the package then: an export event must never
	 *  name a package that was removed; a package without its event is
	 *  harmless.  eakte_export() does so. */
	int maybe_recorded;
} eakte_export_result;

/**
 * Write the export package of Akte o->akte to `fd` (from its current
 * offset, sequentially: a pipe or socket works): every version of its
 * documents, the metadata objects, the journal events that concern it
 * with an RFC 9162 inclusion proof of each against the latest signed
 * checkpoint, the checkpoint and the public key.  Content is streamed,
 * memory does not grow with document size.  Works on an archive opened
 * for reading; journals nothing (see eakte_export_record()).
 * EAKTE_ENOTFOUND if the Akte does not exist.
 */
EAKTE_EXTERN int eakte_export_write(eakte_export_result *result, eakte_archive *archive,
	const eakte_export_options *opts, int fd);

/** Journal the `export` event of a package written by eakte_export_write();
 *  result->seq receives its seq.  Needs the archive open for writing. */
EAKTE_EXTERN int eakte_export_record(eakte_archive *archive, const eakte_export_options *opts,
	eakte_export_result *result);

/**
 * eakte_export_write() into an unnamed file in the directory of `path`,
 * fsync, give it the name `path` (replacing nothing: EAKTE_EEXISTS if it
 * exists), then eakte_export_record().  A failed or interrupted export
 * leaves no file behind.
 */
EAKTE_EXTERN int eakte_export(eakte_export_result *result, eakte_archive *archive,
	const eakte_export_options *opts, const char *path);

/** Options for eakte_package_verify() and eakte_import(). */
typedef struct {
	unsigned int version;
	/** The key the package must be signed by: a PEM public key
	 *  (keys/signing.pub.pem), a C2SP verifier key (keys/note.vkey), or
	 *  lines with "ssh-ed25519 BASE64" (keys/allowed_signers); NULL: none,
	 *  the package is then only checked to be self-consistent. */
	const char *key;
	size_t key_len;
	/** Reader limits; 0 takes the default (docs/format.md). */
	uint64_t max_members;     /**< default 100000 */
	uint64_t max_member_size; /**< default 64 GiB */
	uint64_t max_total;       /**< uncompressed bytes, default 256 GiB */
	uint64_t max_ratio;       /**< uncompressed / compressed, default 100 */
} eakte_package_options;
#define EAKTE_PACKAGE_OPTIONS_VERSION 1
#define EAKTE_PACKAGE_OPTIONS_INIT { EAKTE_PACKAGE_OPTIONS_VERSION, NULL, 0, 0, 0, 0, 0 }

/**
 * Verify the export package read from `fd` (tar or zip, read once as a
 * stream; nothing is written anywhere), needing nothing but the package:
 * the archive within limits and with safe member names, the bag's
 * manifests, every event's inclusion proof against the checkpoint, the
 * checkpoint's signature, every document and metadata object against its
 * event (docs/verification.md).  `label` names the package in messages.
 * *report receives JSON (schema/package-v1.schema.json) whether or not
 * the package verified, when the verification ran.  Returns 0 if it
 * verified (and, with opts->key, was signed by that key), EAKTE_EVERIFY
 * with eakte_error_last() naming the first bad item if not, another
 * error if it could not run (EAKTE_EIO, EAKTE_EINVALID for a malformed
 * pinned key).
 */
EAKTE_EXTERN int eakte_package_verify(char **report, int fd, const char *label, const eakte_package_options *opts);

/** Options for eakte_import(). */
typedef struct {
	unsigned int version;
	/** Import under this Aktenzeichen instead of the package's; NULL: the package's. */
	const char *as;
	const char *actor;            /**< NULL: the calling Unix user */
	eakte_package_options package; /**< the pinned key and reader limits */
} eakte_import_options;
#define EAKTE_IMPORT_OPTIONS_VERSION 1
#define EAKTE_IMPORT_OPTIONS_INIT { EAKTE_IMPORT_OPTIONS_VERSION, NULL, NULL, EAKTE_PACKAGE_OPTIONS_INIT }

/** What an import appended. */
typedef struct {
	char az[512];          /**< the Aktenzeichen in this archive */
	uint64_t seq;          /**< the `import` event */
	uint64_t events;       /**< events appended, the import event included */
	uint64_t documents;    /**< document versions filed */
	char fingerprint[64];  /**< the package's signing key, SHA256:... */
} eakte_import_result;

/**
 * Take the Akte of the export package in `fd` (a regular file, from offset
 * 0) into this archive: the package is verified first exactly as
 * eakte_package_verify() does (EAKTE_EVERIFY, nothing written, if it does
 * not verify or, with a pinned key, is signed by another key), then read a
 * second time to stream its documents into the store (re-checked against
 * the first read).  One transaction appends an `import` event naming the
 * source (origin, checkpoint, key, package SHA-256) and, for each
 * akte-create, vorgang-create, file, meta, akte-close and akte-reopen event
 * of the package, a new event of the same action that carries the original
 * event and its inclusion proof (docs/format.md "Imported events").  New
 * document ids are given; the archive's format policy applies
 * (EAKTE_EPOLICY).  EAKTE_EEXISTS if the Aktenzeichen exists here,
 * EAKTE_ENOTFOUND if its Aktenplan code does not.  Needs the archive open
 * for writing.
 */
EAKTE_EXTERN int eakte_import(eakte_import_result *result, eakte_archive *archive, int fd,
	const eakte_import_options *opts);

/**
 * Validate a plain BagIt 1.0 bag in directory `dir` (RFC 8493; all four
 * common checksum algorithms).  0 if valid, EAKTE_EVERIFY naming the first
 * problem, EAKTE_ENOTFOUND / EAKTE_EIO if it cannot be read.
 */
EAKTE_EXTERN int eakte_bag_validate_dir(const char *dir);

/* ------------------------------------------------------------------ */
/* Client of the daemon eakted                                         */
/* ------------------------------------------------------------------ */

/*
 * The daemon speaks JSON lines over a Unix socket (schema/protocol-v1.md):
 * one request object per line, one response object per line, in order.
 * Document bytes travel as file descriptors (SCM_RIGHTS) beside the line.
 * The daemon takes the caller's identity from the socket (SO_PEERCRED),
 * never from the request.
 */
typedef struct eakte_client eakte_client;

/** Most descriptors one request may carry. */
#define EAKTE_CLIENT_MAX_FDS 250

/** Connect to the daemon's socket.  EAKTE_ENOTFOUND if nothing listens. */
EAKTE_EXTERN int eakte_client_connect(eakte_client **out, const char *socket_path);
/** Close the connection.  Accepts NULL. */
EAKTE_EXTERN void eakte_client_free(eakte_client *client);

/**
 * Send one request: a JSON object without newlines, with `nfds`
 * descriptors (0 to EAKTE_CLIENT_MAX_FDS) that the request refers to by
 * position.  Requests may be sent ahead; responses come in order.
 */
EAKTE_EXTERN int eakte_client_send(eakte_client *client, const char *request, const int *fds, size_t nfds);

/**
 * Receive the next response.  On "ok": true returns 0 and sets *response
 * to the whole response line (free with eakte_free()).  On an error
 * response returns the daemon's error code (EAKTE_EPOLICY, ...) with
 * eakte_error_last() set to its message, and *response is NULL.
 */
EAKTE_EXTERN int eakte_client_recv(eakte_client *client, char **response);

/** eakte_client_send() then eakte_client_recv(). */
EAKTE_EXTERN int eakte_client_call(eakte_client *client, const char *request, const int *fds, size_t nfds,
	char **response);

/**
 * File documents through the daemon: one group commit, all or none (like
 * a batch).  fds[i] are open regular files, read from their current
 * offset; opts[i] describe them (actor is ignored: the daemon records the
 * peer's user).  ids receives `n` document ids.
 */
EAKTE_EXTERN int eakte_client_file(eakte_client *client, const int *fds, const eakte_file_options *opts,
	size_t n, char (*ids)[EAKTE_ID_LEN + 1]);

/** eakte_search() through the daemon: *out gets the same JSON. */
EAKTE_EXTERN int eakte_client_search(eakte_client *client, char **out, const eakte_search_options *opts);

#ifdef __cplusplus
}
#endif

#endif /* EAKTE_EAKTE_H */
