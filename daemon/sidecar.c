/*
 * sidecar.c - a hotfolder document's sidecar NAME.json
 * (schema/sidecar-v1.schema.json); see sidecar.h.  Moved out of
 * hotfolder.c unchanged, so that tests/fuzz/ can reach the parser.
 */
#include "sidecar.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <eakte/eakte.h>
#include <jansson.h>

#define META_KEY HOTFOLDER_META_KEY

void sidecar_free(sidecar *s)
{
	free(s->title);
	free(s->akte);
	for (size_t i = 0; i < s->nmeta; i++)
		free(s->meta[i]);
	free(s->meta);
	memset(s, 0, sizeof(*s));
}

static int valid_key(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n > EAKTE_MAX_META_KEY)
		return 0;
	for (; *k; k++)
		if (!(isalnum((unsigned char)*k) || *k == '_' || *k == '-' || *k == '.'))
			return 0;
	return 1;
}

static int valid_date(const char *d)
{
	struct tm tm;
	char back[11];
	char *end;
	time_t t;

	if (strlen(d) != 10)
		return 0;
	memset(&tm, 0, sizeof(tm));
	end = strptime(d, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0')
		return 0;
	/* strptime takes 2026-02-31; the round trip through timegm does not. */
	tm.tm_hour = 12;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	strftime(back, sizeof(back), "%Y-%m-%d", &tm);
	return strcmp(back, d) == 0;
}

static int push_meta(sidecar *s, const char *key, const char *value)
{
	char **nm = realloc(s->meta, (s->nmeta + 1) * sizeof(*nm));
	size_t len = strlen(key) + strlen(value) + 2;

	if (nm == NULL)
		return -1;
	s->meta = nm;
	if ((nm[s->nmeta] = malloc(len)) == NULL)
		return -1;
	snprintf(nm[s->nmeta++], len, "%s=%s", key, value);
	return 0;
}

#define REASON(...) do { \
		snprintf(de, rlen, __VA_ARGS__); \
		snprintf(en, rlen, __VA_ARGS__); \
	} while (0)

/* Validate a parsed sidecar (schema/sidecar-v1.schema.json). */
static int sidecar_check(sidecar *s, json_t *root, char *de, char *en, size_t rlen)
{
	const char *key;
	json_t *v;

	if (!json_is_object(root)) {
		snprintf(de, rlen, "Die Metadaten-Datei ist kein JSON-Objekt ({...}).");
		snprintf(en, rlen, "the sidecar is not a JSON object ({...}).");
		return -1;
	}
	json_object_foreach(root, key, v) {
		if (strcmp(key, "v") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) != 1) {
				snprintf(de, rlen, "\"v\" muss 1 sein (Version des Formats).");
				snprintf(en, rlen, "\"v\" must be 1 (format version).");
				return -1;
			}
		} else if (strcmp(key, "title") == 0 || strcmp(key, "akte") == 0 || strcmp(key, "sender") == 0 ||
			   strcmp(key, "date") == 0) {
			size_t max = strcmp(key, "akte") == 0 ? 256 : strcmp(key, "title") == 0 ? EAKTE_MAX_TITLE :
				EAKTE_MAX_META_VALUE;
			const char *sv = json_string_value(v);
			if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
			    strlen(sv) != json_string_length(v)) {
				snprintf(de, rlen, "\"%s\" muss ein nicht leerer Text von höchstens %zu Bytes sein.", key, max);
				snprintf(en, rlen, "\"%s\" must be a non-empty string of at most %zu bytes.", key, max);
				return -1;
			}
			if (strcmp(key, "title") == 0) {
				if ((s->title = strdup(sv)) == NULL)
					return -2;
			} else if (strcmp(key, "akte") == 0) {
				if ((s->akte = strdup(sv)) == NULL)
					return -2;
			} else if (strcmp(key, "date") == 0) {
				if (!valid_date(sv)) {
					snprintf(de, rlen, "\"date\" ist kein gültiges Datum JJJJ-MM-TT: \"%.40s\".", sv);
					snprintf(en, rlen, "\"date\" is not a valid date YYYY-MM-DD: \"%.40s\".", sv);
					return -1;
				}
				if (push_meta(s, "datum", sv) < 0)
					return -2;
			} else if (push_meta(s, "absender", sv) < 0) {
				return -2;
			}
		} else if (strcmp(key, "vorgang") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 1) {
				snprintf(de, rlen, "\"vorgang\" muss eine ganze Zahl ab 1 sein.");
				snprintf(en, rlen, "\"vorgang\" must be an integer of 1 or more.");
				return -1;
			}
			s->vorgang = json_integer_value(v);
		} else if (strcmp(key, "meta") == 0) {
			const char *mk;
			json_t *mv;
			if (!json_is_object(v)) {
				snprintf(de, rlen, "\"meta\" muss ein JSON-Objekt aus Schlüssel und Text sein.");
				snprintf(en, rlen, "\"meta\" must be a JSON object of keys and strings.");
				return -1;
			}
			json_object_foreach(v, mk, mv) {
				const char *sv = json_string_value(mv);
				if (!valid_key(mk)) {
					snprintf(de, rlen, "Metadaten-Schlüssel \"%.60s\" ungültig (1-128 Zeichen A-Z a-z 0-9 _ - .).", mk);
					snprintf(en, rlen, "metadata key \"%.60s\" is invalid (1-128 characters A-Z a-z 0-9 _ - .).", mk);
					return -1;
				}
				if (strcmp(mk, "absender") == 0 || strcmp(mk, "datum") == 0 || strcmp(mk, META_KEY) == 0 ||
				    strcmp(mk, "quelle") == 0) {
					snprintf(de, rlen, "Metadaten-Schlüssel \"%s\" ist vorbehalten (für Absender und Datum: \"sender\" und \"date\").", mk);
					snprintf(en, rlen, "metadata key \"%s\" is reserved (for sender and date use \"sender\" and \"date\").", mk);
					return -1;
				}
				if (!json_is_string(mv) || json_string_length(mv) > EAKTE_MAX_META_VALUE ||
				    strlen(sv) != json_string_length(mv)) {
					snprintf(de, rlen, "Metadaten-Wert von \"%.60s\" muss Text sein (höchstens %d Bytes).", mk, EAKTE_MAX_META_VALUE);
					snprintf(en, rlen, "metadata value of \"%.60s\" must be a string (at most %d bytes).", mk, EAKTE_MAX_META_VALUE);
					return -1;
				}
				if (push_meta(s, mk, sv) < 0)
					return -2;
			}
		} else {
			snprintf(de, rlen, "Unbekannter Schlüssel \"%.60s\" (erlaubt: v, title, akte, vorgang, sender, date, meta).", key);
			snprintf(en, rlen, "unknown key \"%.60s\" (allowed: v, title, akte, vorgang, sender, date, meta).", key);
			return -1;
		}
	}
	return 0;
}

int sidecar_parse(sidecar *s, const char *scname, const char *buf, size_t len, char *de, char *en, size_t rlen)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		snprintf(de, rlen, "Die Metadaten-Datei %s ist kein gültiges JSON (Zeile %d, Spalte %d: %s).",
			scname, jerr.line, jerr.column, jerr.text);
		snprintf(en, rlen, "the sidecar %s is not valid JSON (line %d, column %d: %s).",
			scname, jerr.line, jerr.column, jerr.text);
		return -1;
	}
	rc = sidecar_check(s, root, de, en, rlen);
	json_decref(root);
	if (rc < 0) {
		char d2[1400], e2[1400];
		snprintf(d2, sizeof(d2), "%s", de);
		snprintf(e2, sizeof(e2), "%s", en);
		if (rc == -1) {
			snprintf(de, rlen, "Metadaten-Datei %s: %.800s", scname, d2);
			snprintf(en, rlen, "sidecar %s: %.800s", scname, e2);
		}
		sidecar_free(s);
	}
	return rc;
}

int sidecar_load(int pfd, const char *name, sidecar *s, struct stat *scst, char *de, char *en, size_t rlen)
{
	char scname[NAME_MAX + 8], *buf = NULL;
	struct stat st;
	size_t got = 0;
	int fd, rc;

	memset(s, 0, sizeof(*s));
	snprintf(scname, sizeof(scname), "%s.json", name);
	if (fstatat(pfd, scname, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -2;
	s->present = 1;
	*scst = st;
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		snprintf(de, rlen, "Die Metadaten-Datei %s ist keine gewöhnliche Datei (Verknüpfung, Gerät oder harter Link).", scname);
		snprintf(en, rlen, "the sidecar %s is not a plain file (a link, device or hard link).", scname);
		return -1;
	}
	if (st.st_size > SIDECAR_MAX) {
		snprintf(de, rlen, "Die Metadaten-Datei %s ist größer als %u Bytes.", scname, SIDECAR_MAX);
		snprintf(en, rlen, "the sidecar %s is larger than %u bytes.", scname, SIDECAR_MAX);
		return -1;
	}
	fd = openat(pfd, scname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -2;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_size > SIDECAR_MAX ||
	    st.st_ino != scst->st_ino) {
		close(fd);
		snprintf(de, rlen, "Die Metadaten-Datei %s wurde beim Lesen ausgetauscht.", scname);
		snprintf(en, rlen, "the sidecar %s was replaced while it was read.", scname);
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -2;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	rc = sidecar_parse(s, scname, buf, got, de, en, rlen);
	free(buf);
	if (rc < 0)
		s->present = 1;
	return rc;
}
