#!/usr/bin/env python3
"""DNS responder for the records dnsmasq cannot reload, queried only by the node's dnsmasq (its servers-file sends
exactly these names here: server=/<name>/127.0.0.1#5354).

- ExternalName: dnsmasq's own cname= cannot point at names it forwards upstream, so for each ExternalName name this
  answers  <svc>.<ns>.svc.<domain> CNAME <spec.externalName>  followed (for A/AAAA/ANY queries) by the target's
  records, looked up through the node's dnsmasq, as CoreDNS does. Chains of ExternalName Services are followed
  locally (at most 8 hops, so a loop cannot recurse).
- SRV: dnsmasq reads srv-host only at start-up; these records change with Services and headless endpoints, so they
  are answered here:  _<port>._<proto>.<svc>.<ns>.svc.<domain> SRV <priority> <weight> <port> <target>.
The data file holds "cname <name> <target>" and "srv <name> <priority> <weight> <port> <target>" lines written by the
node agent; it is re-read on SIGHUP (sent by the agent after it installs a new file) and when its mtime changes.
Standard library only."""
import argparse
import os
import signal
import socket
import struct

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True)
ap.add_argument("--listen", default="127.0.0.1")
ap.add_argument("--port", type=int, default=5354)
ap.add_argument("--upstream", required=True)
ap.add_argument("--ttl", type=int, default=5)
ap.add_argument("--pid-file")
args = ap.parse_args()

TYPE_A, TYPE_CNAME, TYPE_AAAA, TYPE_SRV, TYPE_ANY = 1, 5, 28, 33, 255
table = {}  # ExternalName: name -> target
srv = {}  # SRV owner name -> [(priority, weight, port, target)]
table_mtime = None
force_reload = False


def on_hup(_signum, _frame):
    global force_reload
    force_reload = True


def reload():
    global table, srv, table_mtime, force_reload
    try:
        m = os.stat(args.data).st_mtime_ns
    except FileNotFoundError:
        table, srv, table_mtime = {}, {}, None
        return
    if m == table_mtime and not force_reload:
        return
    force_reload = False
    cnames, srvs = {}, {}
    with open(args.data, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "cname":
                cnames[parts[1].lower().rstrip(".")] = parts[2].lower().rstrip(".")
            elif len(parts) == 6 and parts[0] == "srv" and all(p.isdigit() for p in parts[2:5]):
                rec = (int(parts[2]), int(parts[3]), int(parts[4]), parts[5].lower().rstrip("."))
                srvs.setdefault(parts[1].lower().rstrip("."), []).append(rec)
    table, srv, table_mtime = cnames, srvs, m


def read_name(buf, off):
    labels, jumped, end = [], False, off
    for _ in range(128):
        n = buf[off]
        if n & 0xC0 == 0xC0:
            if not jumped:
                end = off + 2
            off = ((n & 0x3F) << 8) | buf[off + 1]
            jumped = True
            continue
        off += 1
        if n == 0:
            break
        labels.append(buf[off : off + n].decode("ascii", "replace"))
        off += n
    if not jumped:
        end = off
    return ".".join(labels).lower(), end


def enc_name(name):
    out = b""
    for label in name.split("."):
        if label:
            out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\x00"


def rr(name, rtype, ttl, rdata):
    return enc_name(name) + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


def upstream_records(name, qtype):
    """Records answering (name, qtype) from the upstream, re-encoded without compression. (rcode, [rr bytes])"""
    q = struct.pack(">HHHHHH", os.getpid() & 0xFFFF, 0x0100, 1, 0, 0, 0) + enc_name(name) + struct.pack(">HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    try:
        s.sendto(q, (args.upstream, 53))
        buf, _ = s.recvfrom(4096)
    except OSError:
        return 2, []
    finally:
        s.close()
    _, flags, qd, an, _, _ = struct.unpack(">HHHHHH", buf[:12])
    off = 12
    for _ in range(qd):
        _, off = read_name(buf, off)
        off += 4
    out = []
    for _ in range(an):
        rname, off = read_name(buf, off)
        rtype, rclass, ttl, rdlen = struct.unpack(">HHIH", buf[off : off + 10])
        off += 10
        rdata = buf[off : off + rdlen]
        if rtype == TYPE_CNAME:
            target, _ = read_name(buf, off)
            rdata = enc_name(target)
        off += rdlen
        if rtype in (TYPE_A, TYPE_AAAA, TYPE_CNAME) and rclass == 1:
            out.append(rr(rname, rtype, ttl, rdata))
    return flags & 0xF, out


def answer(pkt):
    qid, flags, qd, _, _, _ = struct.unpack(">HHHHHH", pkt[:12])
    qname, off = read_name(pkt, 12)
    qtype, _ = struct.unpack(">HH", pkt[off : off + 4])
    question = pkt[12 : off + 4]
    reload()
    answers, rcode, name, hops = [], 0, qname, 0
    if name in srv:
        if qtype in (TYPE_SRV, TYPE_ANY):
            for prio, weight, port, target in srv[name]:
                answers.append(rr(name, TYPE_SRV, args.ttl, struct.pack(">HHH", prio, weight, port) + enc_name(target)))
        # other types at an SRV name: NOERROR without answers (NODATA), as an authoritative server says
    elif name not in table:
        rcode = 3  # NXDOMAIN: a forwarded name we hold nothing for (e.g. a port name the Service does not have)
    else:
        while name in table and hops < 8:
            answers.append(rr(name, TYPE_CNAME, args.ttl, enc_name(table[name])))
            name, hops = table[name], hops + 1
        if qtype in (TYPE_A, TYPE_AAAA, TYPE_ANY) and name not in table:
            rcode, extra = upstream_records(name, TYPE_A if qtype == TYPE_ANY else qtype)
            answers += extra
    rflags = 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080 | rcode  # QR, AA, RD copied, RA
    return struct.pack(">HHHHHH", qid, rflags, 1, len(answers), 0, 0) + question + b"".join(answers)


signal.signal(signal.SIGHUP, on_hup)
if args.pid_file:
    with open(args.pid_file + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.replace(args.pid_file + ".tmp", args.pid_file)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((args.listen, args.port))
while True:
    pkt, addr = sock.recvfrom(4096)
    try:
        sock.sendto(answer(pkt), addr)
    except (IndexError, struct.error, UnicodeError):
        pass  # malformed query: no answer
