// Runs inside the local VPC's network namespace: accepts connections on a Unix socket (files cross network
// namespaces, so the host-side load-balancer stand-in can reach it without any route in the host), reads one
// header line "IP PORT\n" naming the target inside the VPC, connects there and pipes both ways. A header
// "PROBE IP PORT\n" is a health check instead: the relay answers "OK\n" if a TCP connection to the target opens
// within a second, "FAIL\n" otherwise, and closes.
import { createServer, connect } from 'node:net';
import { rmSync } from 'node:fs';

const path = process.argv[2];
if (!path) {
  console.error('usage: relay.mjs SOCKET');
  process.exit(2);
}
rmSync(path, { force: true });
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
createServer((client) => {
  let buf = Buffer.alloc(0);
  const onData = (d) => {
    buf = Buffer.concat([buf, d]);
    const nl = buf.indexOf(10);
    if (nl < 0) {
      if (buf.length > 64) client.destroy();
      return;
    }
    // Stop the flow before dropping the listener: bytes arriving before the upstream connects must wait, not vanish.
    client.pause();
    client.off('data', onData);
    const words = buf.subarray(0, nl).toString().trim().split(' ');
    const probe = words[0] === 'PROBE';
    const [ip, portText] = probe ? words.slice(1) : words;
    const port = Number(portText);
    if (!IPV4.test(ip ?? '') || !Number.isInteger(port) || port < 1 || port > 65535) {
      client.destroy();
      return;
    }
    if (probe) {
      const check = connect({ host: ip, port });
      const answer = (ok) => {
        check.destroy();
        client.end(ok ? 'OK\n' : 'FAIL\n');
      };
      check.setTimeout(1000, () => answer(false));
      check.once('connect', () => answer(true));
      check.once('error', () => answer(false));
      return;
    }
    const upstream = connect({ host: ip, port }, () => {
      const rest = buf.subarray(nl + 1);
      if (rest.length) upstream.write(rest);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.setTimeout(30_000, () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  };
  client.on('data', onData);
}).listen(path, () => console.log('relay ready'));
