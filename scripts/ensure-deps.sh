#!/usr/bin/env bash
# Makes sure the system programs the tests use are present: redis-server and redis-cli (cluster
# tests, Redis Cluster), redis-sentinel (the Sentinel tests),
# Debian's postgresql (initdb and pg_ctl for the PostgreSQL tests' throwaway clusters), Debian's
# chromium (browser tests), openssl (a TLS certificate for the cookie tests), python-socketio
# with its WebSocket transport for /usr/bin/python3 (the interop test) and python3-jwt (the
# Python receiver of session events). Installs them with apt-get when run as root; otherwise
# stops with one line saying how.
set -euo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# The Python receiver of session events (examples/python-receiver) runs on Debian's PyJWT.
/usr/bin/python3 -c "import jwt, cryptography" >/dev/null 2>&1 || missing+=(python3-jwt python3-cryptography)
/usr/bin/python3 -c "import socketio, websocket" >/dev/null 2>&1 || missing+=(python3-socketio python3-websocket)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} (apt-get)" >&2
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/tmp/solo-apt.log 2>&1; then
    apt-get update >/tmp/solo-apt.log 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >>/tmp/solo-apt.log 2>&1 || {
      echo "could not install ${missing[*]}: see /tmp/solo-apt.log" >&2
      exit 1
    }
  fi
  exit 0
fi
echo "the tests need ${missing[*]}: run 'sudo apt-get install -y ${missing[*]}' and try again" >&2
exit 1
