#!/bin/sh
# demo.sh - install the dependencies, build eakte, and run the main job on a
# demo archive: init, file the sample documents, show, get, search, proof,
# close, retention, an xdomea export checked offline, verify.
set -eu
cd "$(dirname "$0")"
./install-deps.sh
[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null

EAKTE=./build/cli/eakte
ARCHIVE=${1:-./demo-archive}
rm -rf "$ARCHIVE"

echo "== eakte init $ARCHIVE"
$EAKTE init "$ARCHIVE" --origin demo.musterstadt.de/eakte
export EAKTE_ARCHIVE="$ARCHIVE"

echo "== eakte plan import docs/aktenplan.csv"
$EAKTE plan import docs/aktenplan.csv

echo "== eakte akte create --plan 32.10.02 --title 'Bauantrag Müller, Hauptstraße 5'"
AZ=$($EAKTE akte create --plan 32.10.02 --title "Bauantrag Müller, Hauptstraße 5")
echo "$AZ"

echo "== eakte file docs/samples/* --akte $AZ"
ids=$($EAKTE file docs/samples/* --akte "$AZ" --meta absender=Bürgerbüro)
echo "$ids"
first=$(echo "$ids" | head -n 1)

echo "== eakte show $first"
$EAKTE show "$first"

echo "== eakte get $first | sha256sum"
$EAKTE get "$first" | sha256sum

echo "== eakte search 'mueller'"
$EAKTE search mueller

echo "== eakte ls"
$EAKTE ls

echo "== eakte log"
$EAKTE log

echo "== eakte checkpoint"
$EAKTE checkpoint

echo "== eakte proof $first | eakte verify-proof --key-file $ARCHIVE/keys/note.vkey"
$EAKTE proof "$first" | $EAKTE verify-proof --key-file "$ARCHIVE/keys/note.vkey"

echo "== eakte akte close $AZ; eakte retention show $AZ"
$EAKTE akte close "$AZ"
$EAKTE retention show "$AZ"

echo "== eakte export $AZ --xdomea -o $ARCHIVE.xdomea.zip (for the public archive)"
rm -f "$ARCHIVE.xdomea.zip"
$EAKTE export "$AZ" --xdomea -o "$ARCHIVE.xdomea.zip" --recipient "Landesarchiv Musterland"

echo "== eakte verify-package $ARCHIVE.xdomea.zip --key $ARCHIVE/keys/note.vkey (offline, no archive needed)"
$EAKTE verify-package "$ARCHIVE.xdomea.zip" --key "$ARCHIVE/keys/note.vkey"

echo "== eakte verify"
$EAKTE verify

echo "== git verify-commit (stock git, the archive's allowed_signers)"
git -C "$ARCHIVE/store.git" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile=../keys/allowed_signers \
  verify-commit journal
