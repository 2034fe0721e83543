/**
 * A DNS query from inside a namespace, for record types getent cannot ask for (SRV): standard-library Python that
 * sends one UDP query to the first nameserver of the namespace's /etc/resolv.conf (what `ip netns exec` shows it)
 * and prints one line per answer: `SRV <priority> <weight> <port> <target>`, `A <ip>`, `CNAME <target>`, or
 * `RCODE <n>` when there is none. Bounded by a 2 s socket timeout.
 */
export const DNS_QUERY = String.raw`
import socket, struct, sys
name, qtype = sys.argv[1], {"A": 1, "CNAME": 5, "SRV": 33}[sys.argv[2]]
ns = [l.split()[1] for l in open("/etc/resolv.conf") if l.startswith("nameserver")][0]
q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0) + b"".join(bytes([len(x)]) + x.encode() for x in name.split(".")) + b"\0" + struct.pack(">HH", qtype, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2); s.sendto(q, (ns, 53)); b, _ = s.recvfrom(4096)
def rd(o):
    out = []
    while True:
        n = b[o]
        if n & 0xC0 == 0xC0:
            return ".".join(out + [rd((n & 0x3F) << 8 | b[o + 1])[0]]).strip("."), o + 2
        o += 1
        if n == 0:
            return ".".join(out), o
        out.append(b[o:o + n].decode()); o += n
an = struct.unpack(">H", b[6:8])[0]
o = 12
_, o = rd(o); o += 4
if an == 0: print("RCODE", b[3] & 15)
for _ in range(an):
    _, o = rd(o); t, _, _, l = struct.unpack(">HHIH", b[o:o + 10]); o += 10
    if t == 33: p, w, port = struct.unpack(">HHH", b[o:o + 6]); print("SRV", p, w, port, rd(o + 6)[0])
    elif t == 1: print("A", ".".join(str(x) for x in b[o:o + 4]))
    elif t == 5: print("CNAME", rd(o)[0])
    o += l
`;
