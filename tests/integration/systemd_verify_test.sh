#!/usr/bin/env bash
# The installed systemd files: `cmake --install --prefix /usr` and `make install PREFIX=/usr` into
# DESTDIR temp dirs lay out every expected file; the unit names the installed daemon and config;
# `systemd-analyze verify` accepts it with no warning (and this check does fail on a copy with an
# unknown directive or a bad value); its capabilities are real names; its exposure score stays
# at most 3.0; sysusers.d and tmpfiles.d parse and create the user and directories in a scratch
# root. Needs root only for the last step (tmpfiles chowns to the new user): 77 = skip.
#
# usage: systemd_verify_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
TEST_NAME=systemd_verify
. "$(dirname "$0")/common.sh"

src=$1
build=$2
for tool in systemd-analyze systemd-sysusers systemd-tmpfiles make; do
  command -v "$tool" >/dev/null || skip "$tool not installed"
done

tmp=$(mktemp -d /tmp/sw-systemd-verify.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
  echo "$TEST_NAME: FAIL: $*" >&2
  failures=$((failures + 1))
}

# Every file an installed sybilwatch needs, relative to DESTDIR, for --prefix /usr.
expected=(
  usr/sbin/sybilwatchd
  usr/bin/sybilwatch
  usr/lib/systemd/system/sybilwatchd.service
  usr/lib/sysusers.d/sybilwatch.conf
  usr/lib/tmpfiles.d/sybilwatch.conf
  etc/sybilwatch/sybilwatch.yaml
  usr/share/doc/sybilwatch/install.md
  usr/share/doc/sybilwatch/config.md
  usr/share/sybilwatch/rules
)
check_layout() {  # DESTDIR what
  local f
  for f in "${expected[@]}"; do
    [ -e "$1/$f" ] || fail "$2: $f not installed"
  done
  [ -x "$1/usr/sbin/sybilwatchd" ] || fail "$2: usr/sbin/sybilwatchd not executable"
  cmp -s "$1/etc/sybilwatch/sybilwatch.yaml" "$src/systemd/sybilwatch.yaml" ||
    fail "$2: etc/sybilwatch/sybilwatch.yaml differs from systemd/sybilwatch.yaml"
}

# ---- cmake --install --prefix /usr ----
dest=$tmp/cmake
DESTDIR=$dest cmake --install "$build" --prefix /usr >"$tmp/cmake-install.log" 2>&1 ||
  { cat "$tmp/cmake-install.log" >&2; fail "cmake --install failed"; exit 1; }
check_layout "$dest" "cmake --install"

unit=$dest/usr/lib/systemd/system/sybilwatchd.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
[ "$exec_start" = "/usr/sbin/sybilwatchd --config /etc/sybilwatch/sybilwatch.yaml" ] ||
  fail "ExecStart is '$exec_start'"
grep -q '^Documentation=file:/usr/share/doc/sybilwatch/install.md$' "$unit" ||
  fail "Documentation= does not name the installed install.md"
if grep -n -E -e '@[A-Za-z_]+@' -e "$dest" "$unit"; then fail "unsubstituted @VAR@ or DESTDIR path in the unit"; fi

# systemd-analyze verify checks that ExecStart's binary exists and is executable on THIS root;
# --root=DESTDIR would need the whole OS there (sysinit.target, /bin/kill). So verify a copy
# whose ExecStart points into DESTDIR, against the host's units. systemd 252 logs unknown keys
# and unparsable values but still exits 0: any line it prints about the unit is a failure.
verify() {  # UNIT_FILE → 0 when clean; prints what systemd-analyze said otherwise
  local dir out rc=0
  dir=$(mktemp -d "$tmp/verify.XXXXXX")
  sed "s#^ExecStart=/#ExecStart=$dest/#" "$1" >"$dir/sybilwatchd.service"
  out=$(cd "$dir" && systemd-analyze verify --man=no ./sybilwatchd.service 2>&1) || rc=$?
  out=$(grep -e 'sybilwatchd\.service' <<<"$out" || true)
  if [ "$rc" != 0 ] || [ -n "$out" ]; then
    echo "systemd-analyze verify: exit $rc: $out"
    return 1
  fi
}
verify "$unit" || fail "the installed unit does not verify cleanly"

# The check must catch a bad unit: an unknown directive, a misspelt value, a missing binary.
sed 's/^NoNewPrivileges=yes$/&\nNoNewPriviledges=yes/' "$unit" >"$tmp/unknown.service"
grep -q NoNewPriviledges "$tmp/unknown.service" || fail "could not make the unknown-key copy"
verify "$tmp/unknown.service" >/dev/null && fail "verify accepted an unknown directive"
sed 's/^ProtectSystem=strict$/ProtectSystem=strickt/' "$unit" >"$tmp/value.service"
verify "$tmp/value.service" >/dev/null && fail "verify accepted ProtectSystem=strickt"
sed 's#^ExecStart=/usr/sbin/sybilwatchd#ExecStart=/usr/sbin/sybilwatchd-missing#' "$unit" \
  >"$tmp/missing.service"
verify "$tmp/missing.service" >/dev/null && fail "verify accepted a missing ExecStart binary"

# Unknown capability names are dropped without a word: check each against systemd's list.
known_caps=$(systemd-analyze capability | awk 'NR > 1 { print toupper($1) }')
for key in CapabilityBoundingSet AmbientCapabilities; do
  caps=$(sed -n "s/^$key=//p" "$unit")
  [ -n "$caps" ] || fail "$key missing"
  for cap in $caps; do
    grep -qx "$cap" <<<"$known_caps" || fail "$key: unknown capability $cap"
  done
done
[ "$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")" = \
  "$(sed -n 's/^AmbientCapabilities=//p' "$unit")" ] ||
  fail "AmbientCapabilities differs from CapabilityBoundingSet"

# Hardening regressions show in the exposure score (0 = locked down, 10 = nothing): 2.2 now.
if ! systemd-analyze security --offline=yes --threshold=30 "$unit" >"$tmp/security.log" 2>&1; then
  tail -1 "$tmp/security.log" >&2
  fail "exposure score above 3.0"
fi
sed 's/^ProtectSystem=strict$//; s/^CapabilityBoundingSet=.*//; s/^SystemCallFilter=.*//' \
  "$unit" >"$tmp/weak.service"
systemd-analyze security --offline=yes --threshold=30 "$tmp/weak.service" >/dev/null 2>&1 &&
  fail "the exposure threshold did not catch a unit without its hardening"

# ---- sysusers.d and tmpfiles.d, applied to a scratch root ----
root=$tmp/root
mkdir -p "$root"
cp -a "$dest/." "$root/"
systemd-sysusers --root="$root" >"$tmp/sysusers.log" 2>&1 ||
  { cat "$tmp/sysusers.log" >&2; fail "systemd-sysusers failed"; }
pw=$(grep '^sybilwatch:' "$root/etc/passwd" || true)
IFS=: read -r _ _ uid gid _ home shell <<<"$pw"
[ -n "$pw" ] || fail "systemd-sysusers did not create user sybilwatch"
grep -q "^sybilwatch:x:$gid:" "$root/etc/group" || fail "group sybilwatch ($gid) not created"
[ "$home" = /var/lib/sybilwatch ] || fail "home is '$home'"
case "$shell" in */nologin) ;; *) fail "login shell '$shell'" ;; esac
[ "$uid" -lt 1000 ] 2>/dev/null || fail "uid '$uid' is not a system uid"
printf 'u sybilwatch - "x" /var/lib/sybilwatch extra field\n' >"$tmp/bad-sysusers.conf"
systemd-sysusers --root="$root" --dry-run "$tmp/bad-sysusers.conf" >/dev/null 2>&1 &&
  fail "systemd-sysusers accepted a malformed line"

# ---- make install PREFIX=/usr DESTDIR=... lays out the same files ----
# -o all: the build is ctest's, already done; a rebuild here would relink binaries that other
# tests are running.
mdest=$tmp/make
make -C "$src" --no-print-directory -o all install BUILD="$build" PREFIX=/usr DESTDIR="$mdest" \
  >"$tmp/make-install.log" 2>&1 ||
  { tail -20 "$tmp/make-install.log" >&2; fail "make install failed"; }
check_layout "$mdest" "make install"
diff <(cd "$dest" && find . | sort) <(cd "$mdest" && find . | sort) ||
  fail "make install and cmake --install laid out different files"
cmp -s "$unit" "$mdest/usr/lib/systemd/system/sybilwatchd.service" ||
  fail "make install wrote a different unit"
# A second install keeps an edited configuration and puts the shipped one beside it.
echo "# edited" >>"$mdest/etc/sybilwatch/sybilwatch.yaml"
DESTDIR=$mdest cmake --install "$build" --prefix /usr >/dev/null 2>&1 || fail "reinstall failed"
tail -1 "$mdest/etc/sybilwatch/sybilwatch.yaml" | grep -q '^# edited$' ||
  fail "reinstall overwrote the edited configuration"
cmp -s "$mdest/etc/sybilwatch/sybilwatch.yaml.new" "$src/systemd/sybilwatch.yaml" ||
  fail "reinstall did not install the shipped configuration as sybilwatch.yaml.new"

if [ "$failures" != 0 ]; then
  echo "$TEST_NAME: $failures failure(s)" >&2
  exit 1
fi

# tmpfiles chowns to the user sysusers created: root only (checked last so the rest runs anyway).
[ "$(id -u)" = 0 ] || skip "systemd-tmpfiles --create needs root (everything else passed)"
systemd-tmpfiles --root="$root" --create >"$tmp/tmpfiles.log" 2>&1 ||
  { cat "$tmp/tmpfiles.log" >&2; fail "systemd-tmpfiles --create failed"; }
for d in var/lib/sybilwatch:750 var/lib/sybilwatch/spool:750 run/sybilwatch:755; do
  path=$root/${d%%:*}
  [ -d "$path" ] || { fail "${d%%:*} not created"; continue; }
  [ "$(stat -c '%a %u %g' "$path")" = "${d##*:} $uid $gid" ] ||
    fail "${d%%:*}: $(stat -c '%a %u %g' "$path"), want ${d##*:} $uid $gid"
done
printf 'd relative/path 0750 sybilwatch sybilwatch -\n' >"$tmp/bad-tmpfiles.conf"
systemd-tmpfiles --root="$root" --create "$tmp/bad-tmpfiles.conf" >/dev/null 2>&1 &&
  fail "systemd-tmpfiles accepted a malformed line"

if [ "$failures" != 0 ]; then
  echo "$TEST_NAME: $failures failure(s)" >&2
  exit 1
fi
echo "$TEST_NAME: OK"
