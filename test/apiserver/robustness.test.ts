/**
 * Bad input of any shape: every refusal is a 4xx Status and changes nothing (the revision does not move); nothing is
 * ever a 5xx. Property-based over Service bodies with plausible keys and hostile values, selectors, query
 * parameters and paths.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isStreamed } from '../../lib/apiserver/http/types.js';
import { inProcess } from '../support/in-process.js';

const SVC = '/api/v1/namespaces/default/services';
const str = fc.oneof(
  fc.constantFrom(
    '',
    'None',
    'TCP',
    'UDP',
    'ClusterIP',
    'NodePort',
    'LoadBalancer',
    'ExternalName',
    'Local',
    '10.96.0.10',
    '::1',
    'IPv6',
  ),
  fc.string({ maxLength: 70 }),
);
const int = fc.oneof(fc.integer({ min: -5, max: 70000 }), fc.constantFrom(0, 80, 30001, 32767, 65535, 2 ** 31));
const port = fc.record(
  { name: str, protocol: str, port: int, targetPort: fc.oneof(int, str), nodePort: int },
  { requiredKeys: [] },
);
const spec = fc.record(
  {
    type: str,
    ports: fc.array(port, { maxLength: 4 }),
    selector: fc.dictionary(str, str, { maxKeys: 3 }),
    clusterIP: str,
    clusterIPs: fc.array(str, { maxLength: 3 }),
    externalName: str,
    externalTrafficPolicy: str,
    sessionAffinity: str,
    ipFamilies: fc.array(str, { maxLength: 3 }),
    ipFamilyPolicy: str,
    healthCheckNodePort: int,
    allocateLoadBalancerNodePorts: fc.boolean(),
    loadBalancerSourceRanges: fc.array(str, { maxLength: 2 }),
  },
  { requiredKeys: [] },
);
const anyJson = fc.jsonValue({ maxDepth: 3 });

describe('robustness', () => {
  it('writes with hostile bodies are 4xx that change nothing, or succeed; never 5xx', async () => {
    const api = await inProcess();
    await api.json('POST', SVC, {
      body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'base' }, spec: { ports: [{ port: 80 }] } },
    });
    const modes = [
      'POST',
      'PUT',
      'application/merge-patch+json',
      'application/strategic-merge-patch+json',
      'application/json-patch+json',
    ];
    await fc.assert(
      fc.asyncProperty(fc.oneof(spec, anyJson), fc.constantFrom(...modes), async (s, mode) => {
        const patch = mode.includes('patch');
        const body =
          mode === 'application/json-patch+json'
            ? [{ op: 'replace', path: '/spec', value: s }]
            : patch
              ? { spec: s }
              : { apiVersion: 'v1', kind: 'Service', metadata: { name: mode === 'PUT' ? 'base' : 'new' }, spec: s };
        const before = await api.backend.currentRevision();
        const r = await api.call(patch ? 'PATCH' : mode, mode === 'POST' ? SVC : `${SVC}/base`, {
          body,
          contentType: patch ? mode : 'application/json',
        });
        expect(r.status).toBeLessThan(500);
        if (r.status >= 400) expect(await api.backend.currentRevision()).toBe(before);
        if (r.status === 201) await api.call('DELETE', `${SVC}/new`);
      }),
      { numRuns: 600 },
    );
    // 600 writes against the shared moto: about 40 s alone, more beside the data-plane suites.
  }, 180_000);

  it('selectors, query parameters and paths of any shape never cause a 5xx', async () => {
    const api = await inProcess();
    const piece = fc.oneof(
      fc.string({ maxLength: 10 }),
      fc.constantFrom(' in ', ' notin ', '(', ')', ',', '=', '==', '!=', '!', '>', '<', 'app', 'a/b', '\\', '\\,'),
    );
    const sel = fc.array(piece, { maxLength: 8 }).map((a) => a.join(''));
    const param = fc.constantFrom(
      'limit',
      'continue',
      'resourceVersion',
      'resourceVersionMatch',
      'includeObject',
      'dryRun',
    );
    await fc.assert(
      fc.asyncProperty(sel, sel, param, fc.string({ maxLength: 20 }), async (l, f, k, v) => {
        const r = await api.call('GET', SVC, {
          query: { labelSelector: l, fieldSelector: f, [k]: v },
          accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
        });
        // The one 5xx a list may answer, as the apiserver does: a resourceVersion beyond the current revision is
        // "Too large resource version" (504 Timeout; clients retry). Every other answer is below 500.
        const current = BigInt(await api.backend.currentRevision());
        const tooLarge = k === 'resourceVersion' && /^\d+$/.test(v) && BigInt(v) > current;
        if (tooLarge && r.status === 504) {
          const raw = (r as { body: string | Uint8Array }).body;
          const body = JSON.parse(typeof raw === 'string' ? raw : new TextDecoder().decode(raw)) as { reason: string };
          expect(body.reason).toBe('Timeout');
        } else expect(r.status).toBeLessThan(500);
      }),
      { numRuns: 500 },
    );
    const segment = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.constantFrom(
        'api',
        'apis',
        'v1',
        'namespaces',
        'default',
        'services',
        'status',
        'watch',
        'discovery.k8s.io',
        '%zz',
      ),
    );
    const paths = fc.array(segment, { maxLength: 7 }).map((a) => `/${a.join('/')}`);
    await fc.assert(
      fc.asyncProperty(paths, fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'), async (p, m) => {
        const r = await api.call(m, p, { body: '{}', query: { timeoutSeconds: '0' } });
        if (isStreamed(r)) for await (const _ of r.stream) void _;
        expect(r.status).toBeLessThan(500);
      }),
      { numRuns: 800 },
    );
  });
});
