#!/usr/bin/env python3
"""healthCheckNodePort server for Services with externalTrafficPolicy Local (what kube-proxy's healthcheck server
does). For every line "<port>\t<namespace>\t<name>\t<localEndpoints>" of the data file written by the node agent it
listens on that port (all addresses) and answers any GET with kube-proxy's JSON body:
    {"service": {"namespace": "...", "name": "..."}, "localEndpoints": N, "serviceProxyHealthy": true}
status 200 when N > 0 and 503 otherwise, so an NLB health check only sends traffic to nodes with local endpoints.
The data file is re-read on SIGHUP (sent by the agent after each apply) and whenever its mtime changes.
Standard library only (python3 ships with Amazon Linux 2023 and Ubuntu)."""
import argparse
import json
import os
import signal
import socket
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True)
ap.add_argument("--pid-file")
args = ap.parse_args()

entries = {}  # port -> (namespace, name, count)
listeners = {}  # port -> socket
lock = threading.Lock()
reload_now = threading.Event()


def load():
    new = {}
    try:
        with open(args.data, encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 4 or not parts[0].isdigit() or not parts[3].isdigit():
                    continue
                port = int(parts[0])
                if 1 <= port <= 65535:
                    new[port] = (parts[1], parts[2], int(parts[3]))
    except FileNotFoundError:
        pass
    return new


def serve(conn):
    try:
        conn.settimeout(2)
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 8192:
            chunk = conn.recv(1024)
            if not chunk:
                break
            data += chunk
        port = conn.getsockname()[1]
        with lock:
            e = entries.get(port)
        if e is None:
            status, body = "503 Service Unavailable", {"localEndpoints": 0}
        else:
            ns, name, count = e
            body = {"service": {"namespace": ns, "name": name}, "localEndpoints": count, "serviceProxyHealthy": True}
            status = "200 OK" if count > 0 else "503 Service Unavailable"
        payload = json.dumps(body).encode()
        head = (
            "HTTP/1.1 %s\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"
            "Content-Length: %d\r\nConnection: close\r\n\r\n" % (status, len(payload))
        )
        conn.sendall(head.encode() + payload)
    except OSError:
        pass
    finally:
        conn.close()


def accept_loop(sock):
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return  # listener closed
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def reconcile():
    global entries
    new = load()
    with lock:
        entries = new
    for port in list(listeners):
        if port not in new:
            listeners.pop(port).close()
    for port in new:
        if port in listeners:
            continue
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
            s.listen(64)
        except OSError as err:
            print("cannot listen on %d: %s" % (port, err), flush=True)
            s.close()
            continue
        listeners[port] = s
        threading.Thread(target=accept_loop, args=(s,), daemon=True).start()


signal.signal(signal.SIGHUP, lambda *_: reload_now.set())
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
if args.pid_file:
    with open(args.pid_file + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.replace(args.pid_file + ".tmp", args.pid_file)

last = None
while True:
    try:
        mtime = os.stat(args.data).st_mtime_ns
    except FileNotFoundError:
        mtime = None
    if reload_now.is_set() or mtime != last:
        reload_now.clear()
        last = mtime
        reconcile()
    reload_now.wait(1.0)
