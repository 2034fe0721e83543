/**
 * A per-run self-signed certificate for the loopback server. kubectl (client-go's clientcmd) only sends a bearer
 * token over TLS — for an http:// server it silently drops it (kubernetes/kubectl#744) — so local mode serves HTTPS
 * with this certificate and writes it into the kubeconfig as certificate-authority-data. Loaded lazily: the
 * `selfsigned` package is needed by local mode only.
 */
export interface LoopbackTls {
  key: string;
  cert: string;
}

export async function loopbackCertificate(now = new Date()): Promise<LoopbackTls> {
  const { generate } = await import('selfsigned');
  const notAfterDate = new Date(now.getTime() + 365 * 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: 'serverless-service-controller local API' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate,
    extensions: [
      // Its own trust anchor: kubectl verifies the server against certificate-authority-data = this certificate.
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
