# Shared by scripts/run and scripts/test: installing what a fresh Debian machine lacks.
# Sourced; the caller sets SCRIPT (its name, for messages) and a `missing` array.

say() { printf '==> %s\n' "$*"; }
fail() { printf '%s: %s\n' "${SCRIPT:-scripts}" "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    fail "need root (or sudo) to run: $*"; fi
}

apt_updated=""
apt_install() {
  command -v apt-get >/dev/null || fail "missing $*, and this is not a Debian-like system: install them and rerun"
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  say "installing $*"
  # Packages install daemons (SimpleSAMLphp pulls in a web server): none of them is started
  # here (policy-rc.d says no); the tests start what they need on loopback themselves.
  local policy=/usr/sbin/policy-rc.d own_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null && as_root chmod 755 "$policy" && own_policy=1
  fi
  local installed=0
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || installed=$?
  if [ -n "$own_policy" ]; then as_root rm -f "$policy"; fi
  [ "$installed" -eq 0 ] || fail "apt-get could not install $*"
}

# What building Supportal needs besides Rust, added to `missing`: a C compiler (SQLite),
# pkg-config, OpenSSL, and xmlsec with libxml2 and clang (the samael crate checks SAML
# signatures with xmlsec and makes its bindings with bindgen). C++ for the fuzzers.
build_tools() {
  command -v cc >/dev/null && command -v c++ >/dev/null || missing+=(build-essential)
  command -v pkg-config >/dev/null || missing+=(pkg-config)
  [ -e /usr/include/openssl/ssl.h ] || missing+=(libssl-dev)
  [ -e /usr/include/xmlsec1/xmlsec/xmlsec.h ] || missing+=(libxmlsec1-dev)
  [ -e /usr/include/libxml2/libxml/parser.h ] || missing+=(libxml2-dev)
  # libclang itself: libclang-cpp (which other packages bring) is not what bindgen loads.
  ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 || missing+=(libclang-dev)
}
