#!/usr/bin/env python3
"""Timed HTTP probe for the drills (standard library only).

THREADS threads each send GET requests in turn to the given paths on 127.0.0.1 for SECONDS
seconds and write one line per request to OUT:

    <start epoch seconds> <end epoch seconds> <outcome> <new|reused connection>

where outcome is the HTTP status, or `error:<kind>` when no answer came (kind: refused, reset,
closed, timeout, other). Verification look-ups carry a different X-Forwarded-For each (Cascade
trusts 127.0.0.1 as a proxy in the drills, so its per-address limit is not what is measured).

    probe.py OUT SECONDS THREADS PORT TOKEN PATH [PATH ...]

NEW_CONNECTION=1 opens a connection per request (the SIGTERM drill: a request is then either
answered or refused at connect, and a reset can only hit a request the server had accepted).
"""

import http.client
import os
import random
import socket
import sys
import threading
import time


def kind_of(error):
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    if isinstance(error, (ConnectionResetError, BrokenPipeError)):
        return "reset"
    if isinstance(error, (http.client.RemoteDisconnected, http.client.IncompleteRead)):
        return "closed"
    if isinstance(error, (socket.timeout, TimeoutError)):
        return "timeout"
    return "other"


def main():
    out, seconds, threads, port, token = sys.argv[1:6]
    paths = sys.argv[6:]
    seconds, threads, port = float(seconds), int(threads), int(port)
    new_connection = os.environ.get("NEW_CONNECTION") == "1"
    deadline = time.time() + seconds
    lines = []
    lock = threading.Lock()

    def worker(n):
        conn = None
        i = n
        mine = []
        while time.time() < deadline:
            path = paths[i % len(paths)]
            i += 1
            headers = {"Authorization": "Bearer " + token}
            if "/verify/" in path:
                headers["X-Forwarded-For"] = "10.%d.%d.%d" % (
                    random.randint(0, 255),
                    random.randint(0, 255),
                    random.randint(1, 254),
                )
            if new_connection:
                headers["Connection"] = "close"
            start = time.time()
            fresh = "new" if conn is None else "reused"
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", path, headers=headers)
                res = conn.getresponse()
                res.read()
                outcome = str(res.status)
                if new_connection or res.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception as error:  # noqa: BLE001 - every failure is a figure here
                outcome = "error:" + kind_of(error)
                if conn is not None:
                    conn.close()
                conn = None
                # a refused connect is instant: do not spin
                time.sleep(0.005)
            mine.append("%.6f %.6f %s %s\n" % (start, time.time(), outcome, fresh))
        with lock:
            lines.extend(mine)

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    with open(out, "w") as f:
        f.writelines(sorted(lines))


if __name__ == "__main__":
    main()
