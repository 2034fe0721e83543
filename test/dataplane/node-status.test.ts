/** The pure per-node rules: backoff, results, when a retry is due, who a push goes to, the svcctl view. */
import { describe, expect, it } from 'vitest';
import {
  applyResult,
  backoffSeconds,
  DEFAULT_RETRY,
  finalStatus,
  nodeDataPlaneView,
  retryDue,
  type NodeStatus,
} from '../../lib/dataplane/node-status.js';
import { deltaBases, IN_FLIGHT_MS, retryTargets, targetsFor } from '../../lib/dataplane/push-plan.js';
import type { PushRecord } from '../../lib/dataplane/state-store.js';
import { node } from './fixtures.js';

const T0 = new Date('2026-12-01T10:00:00.000Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const ev = (version: number, s = 0, digest = `d${version}`) => ({
  instanceId: 'i-1',
  commandId: `c-${version}-${s}`,
  ssmStatus: 'x',
  version,
  digest,
  now: at(s),
});
const status = (over: Partial<NodeStatus> = {}): NodeStatus => ({
  instanceId: 'i-1',
  appliedVersion: 1,
  appliedDigest: 'd1',
  failures: 0,
  updatedAt: T0.toISOString(),
  expiresAt: at(7 * 86400).toISOString(),
  ...over,
});

describe('retry policy', () => {
  it('doubles from 10 s and is capped', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffSeconds(n))).toEqual([10, 20, 40, 80, 160, 300, 300, 300]);
  });

  it('maps SSM statuses: Success, final failures, and not-final ones', () => {
    expect(finalStatus('Success')).toBe('Success');
    expect(finalStatus('Delivery Timed Out')).toBe('Failure');
    expect(finalStatus('InProgress')).toBeUndefined();
  });

  it('a failure series schedules growing delays, then gives up; a success ends it', () => {
    let s: NodeStatus | undefined;
    const due: (string | undefined)[] = [];
    for (let i = 0; i < DEFAULT_RETRY.maxAttempts; i++) {
      s = applyResult(s, { ...ev(2, i * 1000), ssmStatus: 'Failed' }, 'Failure');
      due.push(s.nextRetryAt);
    }
    expect(s).toMatchObject({ failures: 6, failedVersion: 2, appliedVersion: 0 });
    expect(due.slice(0, 5)).toEqual([10, 1020, 2040, 3080, 4160].map((x) => at(x).toISOString()));
    expect(due[5]).toBeUndefined(); // Failing: nothing scheduled
    const ok = applyResult(s, { ...ev(2, 9000), ssmStatus: 'Success' }, 'Success');
    expect(ok).toMatchObject({ failures: 0, appliedVersion: 2, appliedDigest: 'd2', nextRetryAt: undefined });
    expect(ok.failedVersion).toBeUndefined();
    expect(Date.parse(ok.expiresAt)).toBe(at(9000).getTime() + 7 * 86400 * 1000); // the TTL moves with each write
  });

  it('is due only when behind, not Failing, and after its backoff', () => {
    const s = status({ failures: 2, failedVersion: 2, nextRetryAt: at(20).toISOString() });
    expect(retryDue(s, 'd2', at(10))).toBe(false);
    expect(retryDue(s, 'd2', at(20))).toBe(true);
    expect(retryDue(s, 'd1', at(20))).toBe(false); // already holds the latest content
    expect(retryDue({ ...s, failures: 6 }, 'd2', at(20))).toBe(false);
  });
});

describe('push plan', () => {
  const nodes = [node('n1', 'i-1', '172.31.0.11'), node('n2', 'i-2', '172.31.0.12'), node('n3', 'i-3', '172.31.0.13')];
  const statuses = new Map([
    ['i-1', status({ instanceId: 'i-1', appliedVersion: 5, appliedDigest: 'd5' })],
    ['i-2', status({ instanceId: 'i-2', appliedVersion: 4, appliedDigest: 'd4' })],
  ]);

  it('targets the nodes whose content differs (unknown ones included); all of them means the selector', () => {
    expect(targetsFor(nodes, { '*': 'd5' }, statuses)).toEqual({ all: false, instanceIds: ['i-2', 'i-3'] });
    expect(targetsFor(nodes, { '*': 'd6' }, statuses)).toEqual({ all: true, instanceIds: ['i-1', 'i-2', 'i-3'] });
    expect(targetsFor(nodes, { '*': 'd6', 'i-2': 'd4' }, statuses).instanceIds).toEqual(['i-1', 'i-3']);
  });

  it('groups nodes at other versions than the last push as delta bases', () => {
    expect(deltaBases(nodes, statuses, 5)).toEqual([{ version: 4, instanceIds: ['i-2'] }]);
  });

  it('retries only due nodes and, on a resync, nodes behind for longer than a push can take', () => {
    const last: PushRecord = {
      version: 5,
      generation: 1,
      stateKey: 'k',
      digests: { '*': 'd5' },
      parameters: { version: '5', mode: 'delta', manifestSha256: '', manifestUrl: '', inline: '' },
      commandIds: [],
      pushedAt: T0.toISOString(),
    };
    const base = { last, liveIds: ['i-1', 'i-2', 'i-3'], statuses, requested: [], exclude: new Set<string>() };
    expect(retryTargets({ ...base, resync: true, now: at(60) })).toEqual([]); // results may still be on their way
    expect(retryTargets({ ...base, resync: true, now: new Date(T0.getTime() + IN_FLIGHT_MS + 1) })).toEqual([
      'i-2',
      'i-3',
    ]);
    expect(retryTargets({ ...base, resync: false, requested: ['i-2'], now: at(60) })).toEqual([]); // nothing due
  });

  it('the svcctl view: InSync, Pending, Retrying, Failing, Unknown', () => {
    const latest = { version: 5, digests: { '*': 'd5' } };
    expect(nodeDataPlaneView('i-1', statuses.get('i-1'), latest).state).toBe('InSync');
    expect(nodeDataPlaneView('i-2', statuses.get('i-2'), latest).state).toBe('Pending');
    expect(nodeDataPlaneView('i-2', status({ failures: 1 }), latest).state).toBe('Retrying');
    expect(nodeDataPlaneView('i-2', status({ failures: 6 }), latest).state).toBe('Failing');
    expect(nodeDataPlaneView('i-3', undefined, latest)).toMatchObject({ state: 'Unknown', latestVersion: 5 });
  });
});
