"""A solo-session client in Python, written against the wire contract alone (python-socketio).

Usage: /usr/bin/python3 client.py <base url> <username> <password>

Signs in over HTTP (POST /auth/login), joins the /session namespace over WebSocket with the
token in the handshake's auth, acknowledges session:revoked when another device signs in, then
connects again with the same token and reports the refusal. Prints one JSON object per line on
stdout (never the token); the caller drives the second sign-in once it reads "connected".
"""

import json
import os
import queue
import sys
import threading
import urllib.request

import socketio

NAMESPACE = "/session"
# Seconds: an upper bound on each step, never a pause (generous: a busy machine can be slow to
# answer; a step that takes longer fails the run with "timeout").
WAIT = float(os.environ.get("SOLO_INTEROP_WAIT", "30"))


def say(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def login(base_url, username, password):
    request = urllib.request.Request(
        base_url + "/auth/login",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=WAIT) as response:
        return json.load(response)


def join(base_url, token, ended):
    """Connects to /session; returns the client and "connected" or "refused"."""
    sio = socketio.Client(reconnection=False)
    outcome = queue.Queue()

    # Registered before connecting: a notice can arrive together with the CONNECT.
    @sio.on("session:revoked", namespace=NAMESPACE)
    def on_revoked(notice):
        say("revoked", notice=notice)
        # Returning acknowledges the notice (python-socketio sends the ACK after the handler).

    @sio.on("connect", namespace=NAMESPACE)
    def on_connect():
        outcome.put("connected")

    @sio.on("connect_error", namespace=NAMESPACE)
    def on_connect_error(data):
        say("connect_error", data=data)  # {"message": code, "data": {"code", "message", "reason"?, "by"?, "dispute"?}}
        outcome.put("refused")

    @sio.on("disconnect", namespace=NAMESPACE)
    def on_disconnect():
        say("disconnected")
        ended.set()

    # wait=False, then the namespace's own answer: python-socketio 5.7 would otherwise wait out
    # its whole timeout after a refusal.
    sio.connect(
        base_url,
        namespaces=[NAMESPACE],
        auth={"token": token},
        transports=["websocket"],
        wait=False,
        wait_timeout=WAIT,
    )
    try:
        return sio, outcome.get(timeout=WAIT)
    except queue.Empty:
        say("timeout", waiting_for="connect")
        sio.disconnect()
        return sio, "timeout"


def main(base_url, username, password):
    body = login(base_url, username, password)
    say("login", session=body["session"]["id"])

    ended = threading.Event()
    sio, outcome = join(base_url, body["token"], ended)
    if outcome != "connected":
        return 1
    say("connected", sid=sio.get_sid(NAMESPACE))
    if not ended.wait(WAIT):
        say("timeout", waiting_for="disconnect")
        return 1

    again, outcome = join(base_url, body["token"], threading.Event())
    again.disconnect()
    say("refused" if outcome == "refused" else "reconnected")
    return 0 if outcome == "refused" else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
