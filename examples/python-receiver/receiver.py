#!/usr/bin/env python3
"""A service in another language that solo-session tells when a session ends.

It keeps its own cache of sessions it trusts (filled here by PUT /sessions/<sid>, standing in
for whatever the service does after it first sees a token) and drops a session from it the
moment solo-session POSTs an OpenID Back-Channel Logout token for it. The token is verified
against solo-session's /auth/jwks.json: signature (EdDSA or ES256), typ logout+jwt, iss, aud,
iat, exp, jti, the back-channel-logout event, no nonce. Deliveries are at least once, so the
jti is remembered and a repeat is acknowledged without acting twice.

Needs Debian's python3-jwt (PyJWT with cryptography). Environment: SOLO_URL (the solo-session
server, e.g. http://127.0.0.1:3000), AUDIENCE (as registered in SOLO_RECEIVERS), ISSUER
(solo-session's `issuer`, default "solo-session"), PORT (0 picks a free one). Prints
{"port": N} once listening, then one JSON line per session dropped.
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import jwt
from jwt import PyJWKClient

BACKCHANNEL_LOGOUT = "http://schemas.openid.net/event/backchannel-logout"
SOLO_URL = os.environ["SOLO_URL"].rstrip("/")
AUDIENCE = os.environ.get("AUDIENCE", "python-service")
ISSUER = os.environ.get("ISSUER", "solo-session")
MAX_BODY = 16 * 1024

keys = PyJWKClient(SOLO_URL + "/auth/jwks.json")
sessions = {}  # session id -> user id: the sessions this service trusts
handled = set()  # jti of the logout tokens already acted on


def verify(token):
    """The claims of a valid logout token; raises ValueError or a jwt error otherwise."""
    if jwt.get_unverified_header(token).get("typ") != "logout+jwt":
        raise ValueError("not a logout token")
    key = keys.get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        key.key,
        algorithms=["EdDSA", "ES256"],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"require": ["iss", "aud", "iat", "exp", "jti", "events"]},
    )
    if "nonce" in claims:
        raise ValueError("a logout token carries no nonce")
    if not isinstance(claims["events"], dict) or not isinstance(claims["events"].get(BACKCHANNEL_LOGOUT), dict):
        raise ValueError("not a back-channel logout event")
    if not claims.get("sid") and not claims.get("sub"):
        raise ValueError("names no session")
    return claims


class Handler(BaseHTTPRequestHandler):
    def _answer(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _sid(self):
        return self.path[len("/sessions/"):] if self.path.startswith("/sessions/") else None

    def do_PUT(self):
        sid = self._sid()
        if not sid:
            return self._answer(404)
        sessions[sid] = True
        self._answer(204)

    def do_GET(self):
        sid = self._sid()
        self._answer(200 if sid and sid in sessions else 404)

    def do_POST(self):
        if self.path != "/backchannel-logout":
            return self._answer(404)
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY or self.headers.get("content-type") != "application/x-www-form-urlencoded":
            return self._answer(400, {"error": "invalid_request"})
        form = parse_qs(self.rfile.read(length).decode("ascii", "replace"))
        try:
            claims = verify((form.get("logout_token") or [""])[0])
        except Exception as error:  # any failure to verify is the sender's problem: 400
            return self._answer(400, {"error": "invalid_request", "error_description": type(error).__name__})
        if claims["jti"] not in handled:
            handled.add(claims["jti"])
            sessions.pop(claims.get("sid"), None)
            print(json.dumps({"dropped": claims.get("sid"), "user": claims.get("sub"), "jti": claims["jti"]}), flush=True)
        self._answer(200)

    def log_message(self, *args):  # quiet: the JSON lines are the log
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "0"))), Handler)
    print(json.dumps({"port": server.server_port}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
