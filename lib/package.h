/*
 * package.h - eakte export packages: reading and verifying them (package.c),
 * writing them (export.c), taking them in (import.c).
 *
 * A package is a BagIt 1.0 bag (bag.h) in a tar or zip file; its layout
 * is in docs/format.md "Export packages":
 *   bagit.txt bag-info.txt manifest-sha256.txt tagmanifest-sha256.txt
 *   data/akte.json
 *   data/documents/<doc id>/<version>.content
 *   data/objects/<sha256 hex>.json
 *   data/journal/<seq>.json  data/journal/<seq>.proof
 *   data/journal/checkpoint  data/journal/note.vkey  data/journal/signing.pub.pem
 *
 * A package is valid if and only if
 *   (1) the file is a tar or zip within the reader's limits, every member a
 *       regular file (or directory) with a checked name (bag.h), none twice;
 *   (2) it is a valid bag (bag.h) with manifest-sha256.txt and
 *       tagmanifest-sha256.txt, every tag file listed in the tag manifest;
 *   (3) note.vkey and signing.pub.pem name the same Ed25519 key, and the
 *       checkpoint carries a valid signature by it under the key's name,
 *       which is the checkpoint's origin;
 *   (4) every <seq>.json is a canonical event with that seq, below the
 *       checkpoint's size, and its <seq>.proof is an inclusion proof of
 *       exactly those bytes against exactly that checkpoint;
 *   (5) every document version and metadata object an event names is in the
 *       package with the SHA-256 (and, for content, the size) of the event;
 *   (6) every member under data/ is one of the above (nothing unaccounted);
 *   (7) every event concerns the Akte of akte.json (or is the genesis, a plan
 *       event or a meta event of one of its documents), and the akte-create
 *       event is included;
 *   (8) if event 0 is included, it is the genesis event naming the
 *       checkpoint's origin and the package's key.
 * With a pinned key, additionally (9) the package's key is the pinned key.
 *   (10) files at the top level beyond BagIt's own tag files are those of an
 *       xdomea export: one <uuid>_Aussonderung.Aussonderung.0503.xml message
 *       and primary files, each listed in the tag manifest, each with the
 *       SHA-256 and size of a document version of the package, each named
 *       by exactly one Primaerdokument/Dateiname of the message, which
 *       names no other file.
 */
#ifndef EAKTE_PACKAGE_H
#define EAKTE_PACKAGE_H

#include "bag.h"
#include "event.h"
#include "key.h"
#include "note.h"

#include <jansson.h>

typedef struct {
	uint64_t seq;
	const char *json;          /* borrowed from the bag */
	size_t len;
	eakte_ev ev;
	eakte_hash leaf;
} eakte_pkg_event;

typedef struct {
	eakte_bag bag;
	eakte_pkg_event *events;   /* seq order */
	size_t nevents;
	eakte_checkpoint cp;
	uint8_t pub[EAKTE_ED25519_PUB_LEN];
	uint32_t key_id;
	char origin[EAKTE_NOTE_NAME_MAX + 1];
	char fingerprint[64];      /* SHA256:<base64> of the ssh-ed25519 blob */
	char akte[512];
	uint8_t sha256[EAKTE_HASH_LEN];   /* of the package file */
	uint64_t size;
	const char *format;        /* "bagit-tar" or "bagit-zip" */
	uint64_t documents;        /* document versions */
	uint64_t objects;
} eakte_pkg;

/* Read and verify the package in fd (from its current offset).  opts may
 * be NULL.  On EAKTE_EVERIFY the error text names the first bad item and
 * *out is still NULL.  pinned: set to 1/0 whether a pinned key matched,
 * -1 when none was given (then a mismatch is no failure). */
int eakte_package__read(eakte_pkg **out, int fd, const char *label, const eakte_package_options *opts);
void eakte_package__free(eakte_pkg *p);

/* The event with this seq, or NULL. */
const eakte_pkg_event *eakte_package__event(const eakte_pkg *p, uint64_t seq);

/* OpenSSH fingerprint SHA256:<unpadded base64> of an Ed25519 key. */
void eakte_package__fingerprint(char out[64], const uint8_t pub[EAKTE_ED25519_PUB_LEN]);

/* Parse a pinned key text: PEM, C2SP verifier key, or lines holding
 * "ssh-ed25519 <base64>" (allowed_signers, authorized_keys, .pub).  Up to
 * max keys go to pubs; *n gets their number. */
int eakte_package__parse_keys(uint8_t (*pubs)[EAKTE_ED25519_PUB_LEN], size_t max, size_t *n, const char *text, size_t len);

/* Stream the members of the package in fd whose name starts with
 * `prefix` to cb (name, bytes... via repeated calls: data NULL at the
 * end of a member), with the same limits as eakte_package__read. */
typedef int (*eakte_pkg_member_cb)(const char *name, const void *data, size_t len, void *payload);
int eakte_package__stream(int fd, const char *prefix, const eakte_package_options *opts, eakte_pkg_member_cb cb,
	void *payload);

/* The description of Akte `az` that an export package carries as
 * data/akte.json (docs/format.md "Export packages"), as of the latest
 * checkpoint; for other export formats (the xdomea message).  Needs only
 * a read view. */
int eakte_export__akte_model(json_t **out, eakte_archive *a, const char *az);

/* The name of a package format in events and reports: "bagit-tar",
 * "bagit-zip" or "xdomea". */
const char *eakte_export__format_name(int format);

/*
 * For `eakte verify`: the events an import appended are checked against
 * their originals.  An `import` event sets the source (its key must sign
 * its checkpoint); each later event with "imported" must carry an original
 * event whose inclusion proof holds against that checkpoint and key, of
 * the same action, with the same content (SHA-256 and size), version,
 * Vorgang or zdA date.  0 if the event is fine (or not import-related),
 * EAKTE_EVERIFY with a message saying what does not hold.
 */
typedef struct {
	char *origin;
	char *vkey;
	char *note;
} eakte_import_check;

void eakte_import__check_free(eakte_import_check *st);
int eakte_import__check_event(eakte_import_check *st, const eakte_ev *ev);

/* The text form of an inclusion proof (docs/verification.md) of event
 * `seq` with bytes event[0..event_len), hashes proof[0..count), against
 * the signed checkpoint `note`; shared by `eakte proof` and export. */
int eakte_proof__format(char **out, uint64_t seq, const char *event, size_t event_len, const eakte_hash *proof,
	size_t count, const char *note);

#endif
