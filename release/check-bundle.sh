#!/usr/bin/env bash
# Builds the Maven Central bundle as `./mvnw -P release deploy` would upload it, from a copy of this tree with
# the release version (the POMs' version without -SNAPSHOT, as a release sets it), signed with a throwaway
# GnuPG key, WITHOUT uploading it (-Dtfo.skipUpload=true); then checks it (release/check_bundle.py): exactly the
# published artifacts, each with its signature and checksums, the metadata Central requires. ./test.sh runs it.
# Needs gpg and python3; Maven through ./mvnw; tests are skipped here (the suite runs them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d /tmp/tfo-release.XXXXXX)
cleanup() {
  gpgconf --homedir "$work/gnupg" --kill all >/dev/null 2>&1
  rm -rf "$work"
}
trap 'status=$?; set +e; cleanup; exit "$status"' EXIT

snapshot=$(sed -n 's:^  <version>\(.*\)</version>$:\1:p;T;q' pom.xml)
case "$snapshot" in
  *-SNAPSHOT) release=${snapshot%-SNAPSHOT} ;;
  *) echo "check-bundle: the root pom's version ($snapshot) is not a -SNAPSHOT" >&2; exit 1 ;;
esac
echo "check-bundle: $snapshot -> $release, in $work/src"

# The tree as it is (committed or not), without build output.
mkdir -p "$work/src"
git ls-files --cached --others --exclude-standard -z | xargs -0 cp --parents -t "$work/src"
find "$work/src" -name pom.xml -print0 |
  xargs -0 sed -i "s:<version>$snapshot</version>:<version>$release</version>:"
if grep -rl --include=pom.xml -- "$snapshot" "$work/src" >/dev/null; then
  echo "check-bundle: $snapshot left in $(grep -rl --include=pom.xml -- "$snapshot" "$work/src")" >&2
  exit 1
fi

export GNUPGHOME=$work/gnupg
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
  --quick-gen-key "transport-tfo release check <release-check@transport-tfo.invalid>" ed25519 sign 1d

(cd "$work/src" && ./mvnw -B -ntp -q -P release -Dtfo.skipUpload=true -DskipTests \
  -pl transport-tfo,transport-tfo-micrometer,transport-tfo-grpc -am deploy)

bundle=$work/src/target/central-publishing/central-bundle.zip
[ -f "$bundle" ] || { echo "check-bundle: no bundle at $bundle" >&2; ls -R "$work/src/target" >&2; exit 1; }
python3 "$root/release/check_bundle.py" "$bundle" "$release"
