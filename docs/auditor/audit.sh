#!/bin/sh
# audit.sh ARCHIVE [SAVED_CHECKPOINT] - verify an eakte archive with stock
# tools only: git, openssl, sha256sum and the short Python script
# journal.py beside this file (standard library only).  It trusts nothing
# of eakte's code.  docs/verification.md explains every step.
# Exit 0 if every check passes, 1 otherwise.
set -eu
ARCHIVE=$1
SAVED=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
STORE="$ARCHIVE/store.git"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

fail() { echo "AUDIT FAILED: $*" >&2; exit 1; }

# Step 1: the git object store is intact (every object's SHA-1, every link).
git -C "$STORE" fsck --full --strict >/dev/null 2>"$WORK/fsck" || fail "git fsck: $(cat "$WORK/fsck")"

# Step 2: the journal is a linear chain; every commit is SSH-signed by the
# archive key (the allowed_signers file; compare its key with the one you
# recorded when the archive was handed over).
git -C "$STORE" rev-list --reverse --first-parent journal > "$WORK/commits"
[ "$(git -C "$STORE" rev-list --merges journal | wc -l)" -eq 0 ] || fail "the journal has merge commits"
n=0
while read -r c; do
  git -C "$STORE" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$ARCHIVE/keys/allowed_signers" \
    verify-commit "$c" 2>/dev/null || fail "event $n (commit $c): signature does not verify"
  git -C "$STORE" cat-file blob "$c:event.json" > "$WORK/event.$n"
  n=$((n + 1))
done < "$WORK/commits"

# Step 3: events are canonical, numbered, chained; the Merkle root of the
# journal matches the checkpoint; the checkpoint's Ed25519 signature is
# checked with openssl.
git -C "$STORE" cat-file blob refs/eakte/state:checkpoint > "$WORK/checkpoint"
python3 "$HERE/journal.py" "$WORK" "$n" "$WORK/checkpoint" ${SAVED:+"$SAVED"} || fail "journal check"
openssl pkeyutl -verify -pubin -inkey "$ARCHIVE/keys/signing.pub.pem" -rawin \
  -in "$WORK/checkpoint.text" -sigfile "$WORK/checkpoint.sig" >/dev/null || fail "checkpoint signature"
if [ -n "$SAVED" ]; then
  openssl pkeyutl -verify -pubin -inkey "$ARCHIVE/keys/signing.pub.pem" -rawin \
    -in "$WORK/saved.text" -sigfile "$WORK/saved.sig" >/dev/null || fail "saved checkpoint signature"
fi
# The key that signed the checkpoint is the key named in the genesis event.
openssl pkey -pubin -in "$ARCHIVE/keys/signing.pub.pem" -outform DER | tail -c 32 > "$WORK/pub.raw"
cmp -s "$WORK/pub.raw" "$WORK/genesis.key" || fail "keys/signing.pub.pem is not the key of the genesis event"

# Step 4: every filed document's content has the SHA-256 the signed event records.
while read -r oid sha doc; do
  actual=$(git -C "$STORE" cat-file blob "$oid" | sha256sum | cut -d' ' -f1)
  [ "$actual" = "$sha" ] || fail "document $doc: SHA-256 expected=$sha actual=$actual"
done < "$WORK/contents"

echo "AUDIT OK: $n events, $(wc -l < "$WORK/contents") documents"
