/*
 * xdomea.h - the xdomea 3.0.0 message Aussonderung.Aussonderung.0503 for
 * one Akte, built from a JSON model (docs/format.md, "xdomea 0503 export").
 *
 * The message hands an Akte with its Vorgänge, Dokumente and all versions
 * to the public archive.  It travels in a zip (the "xdomea container")
 * next to the primary files it names.  What the caller puts into the zip:
 *
 *   <message_id>_Aussonderung.Aussonderung.0503.xml
 *       the bytes returned by eakte_xdomea__0503(), unchanged; the name
 *       from eakte_xdomea__message_name().  The zip itself is best called
 *       <message_id>_Aussonderung.Aussonderung.0503.zip (xdomea 3.0.0
 *       specification, section "Dateinamen"; the Landesarchiv NRW examples).
 *   <member> for every version of every document
 *       the version's content bytes, exactly as filed, at the top level of
 *       the zip; <member> is the model's "member" string, which the message
 *       names in Primaerdokument/Dateiname.  Make it with
 *       eakte_xdomea__member_name() from a UUID for the file (see
 *       eakte_xdomea__uuid()) and the original file name: never take a
 *       member name straight from metadata.
 *
 * Write member names as UTF-8 (libarchive's zip writer: option
 * "hdrcharset=UTF-8"), since original file names carry umlauts.
 *
 * Other files (the proofs, the journal excerpt; issue 5 wants them in the
 * same zip) belong in their own directory.  xdomea 3.0.0 describes a
 * container of the message and its primary files only; the message does
 * not name the extra files, and an archive's import may warn about them.
 *
 * UUIDs: xdomea wants one per message (ProzessID, a fresh random one per
 * export: model "message_id") and one per object that stays the same in
 * every message about that object (xdomea 3.0.0 specification 2.4.2).
 * Documents have their UUIDv7 id; Akten, Vorgänge and files do not, so
 * eakte_xdomea__uuid() derives stable ones from the archive origin and a
 * name.
 *
 * All functions return 0 or a negative EAKTE_E* code: EAKTE_EINVALID
 * names the model field (as a JSON pointer, "/akte/vorgaenge/0/title")
 * and what is wrong with it; EAKTE_ENOMEM.
 */
#ifndef EAKTE_XDOMEA_H
#define EAKTE_XDOMEA_H

#include "common.h"

#include <jansson.h>

/* Length of a UUID in text form, without the NUL. */
#define EAKTE_XDOMEA_UUID_LEN 36
/* Longest member name eakte_xdomea__member_name() makes, in bytes: the
 * UUID, "_" and at most 120 bytes of the original name, so that the
 * member stays well inside the 255-byte name limit of common file
 * systems when an archive unpacks the zip. */
#define EAKTE_XDOMEA_MEMBER_MAX 157
/* Longest text (title, name) the model may carry, in bytes. */
#define EAKTE_XDOMEA_TEXT_MAX 4096

/*
 * Build the message from `model` (described in docs/format.md, "xdomea
 * 0503 export"):
 *
 *   {"message_id": UUID, "created": "YYYY-MM-DDTHH:MM:SSZ",
 *    "sender": {"origin": STRING, "name": STRING},
 *    "recipient": {"name": STRING},                              optional
 *    "akte": {"az": STRING, "title": STRING, "uuid": UUID,
 *             "plan": {"code": STRING, "title": STRING},         title optional
 *             "opened": DATE, "closed": DATE,                    closed optional (open Akte)
 *             "retention": 0..200 | "unbefristet", "value": "A" | "B" | "V",
 *             "vorgaenge": [{"n": 1.., "title": STRING, "uuid": UUID,
 *                            "documents": [DOC...]}],            optional
 *             "documents": [DOC...]}}                            optional
 *   DOC: {"id": UUID, "title": STRING, "filed": DATE,            filed optional
 *         "versions": [{"version": 1.., "member": STRING, "mime": STRING,
 *                       "filename": STRING, "filed": DATE | DATETIME,
 *                       "size": 0.., "sha256": HEX}]}           filename, filed, size, sha256 optional
 *
 * Which element carries which field is in docs/format.md.  Give a
 * version's "filed" as the filing event's time (YYYY-MM-DDTHH:MM:SSZ):
 * it becomes Primaerdokument/DatumUhrzeit; a bare date is accepted but
 * not written (the element needs a time).  The document's "filed", "size"
 * and "sha256" are checked but have no element in xdomea 3.0.0.  Documents
 * appear in array order (give them in filing order); "recipient" is the
 * public archive (Kopf/Empfaenger, left empty without it).
 *
 * Every field is checked: UUIDs, dates (real calendar dates), text (UTF-8
 * the XML can carry: no control characters, at most EAKTE_XDOMEA_TEXT_MAX
 * bytes), unique ids, Vorgang numbers and version numbers, at least one
 * version per document, member names as eakte_xdomea__member_name()
 * makes them, each with its own UUID.  Unknown members are refused (a misspelt field
 * must not silently vanish from an archival message).
 *
 * On success *xml_out is the UTF-8 XML document (NUL-terminated; free()
 * it) and *len_out its length without the NUL.  On failure both are
 * NULL/0.  The output is a pure function of the model.  It is held in
 * memory twice while it is made, about 1.2 KiB per document version.
 */
int eakte_xdomea__0503(char **xml_out, size_t *len_out, const json_t *model);

/* The file name of the message in the zip:
 * "<message_id>_Aussonderung.Aussonderung.0503.xml".  EAKTE_EINVALID if
 * message_id is not a UUID. */
int eakte_xdomea__message_name(char **out, const char *message_id);

/*
 * The zip member name of a primary file: "<uuid>_<name>", where <name> is
 * `filename` made safe: only its last path component (after any '/' or
 * '\'), control characters, invalid UTF-8 and the characters
 * < > : " | ? * replaced by '_', leading dots and spaces dropped, and cut
 * (at a character boundary) to at most 120 bytes while keeping its
 * extension (the part after the last dot, if that is 1-16 letters or
 * digits).  Without a usable name (NULL, empty, only dots) the member is
 * "<uuid>".  `uuid` must be a UUID (it is written in lowercase).  The
 * result is at most EAKTE_XDOMEA_MEMBER_MAX bytes; free() it.
 */
int eakte_xdomea__member_name(char **out, const char *uuid, const char *filename);

/*
 * A UUID that is the same for the same (origin, name) and different
 * otherwise: the first 16 bytes of SHA-256("eakte-xdomea\n" origin "\n"
 * name) as an RFC 9562 version 8 (custom, name-based) UUID, lowercase.
 * Names the lead uses: "akte\n<az>", "vorgang\n<az>\n<n>",
 * "version\n<doc id>\n<version>".  `out` gets 36 characters and a NUL.
 * EAKTE_EINVALID if origin contains a line break (the separator).
 */
/* Set up libxml2 once for the whole library (extract.c, package.c and
 * this file use it, from several threads in eakted). */
void eakte_xml__init(void);

int eakte_xdomea__uuid(char out[EAKTE_XDOMEA_UUID_LEN + 1], const char *origin, const char *name);

#endif
