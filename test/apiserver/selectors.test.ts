/** Label and field selectors: the apimachinery grammar, matching semantics and 400 errors. */
import { describe, expect, it } from 'vitest';
import type { ApiObject } from '../../lib/api/backend.js';
import { matchesFields, parseFieldSelector } from '../../lib/apiserver/selectors/fields.js';
import { matchesLabels, parseLabelSelector } from '../../lib/apiserver/selectors/labels.js';
import { BadRequestError } from '../../lib/errors.js';

const m = (sel: string, labels: Record<string, string>) => matchesLabels(parseLabelSelector(sel), labels);

describe('label selectors', () => {
  it('equality, inequality, existence', () => {
    expect(m('app=web', { app: 'web' })).toBe(true);
    expect(m('app==web', { app: 'db' })).toBe(false);
    expect(m('app!=web', {})).toBe(true);
    expect(m('app!=web', { app: 'web' })).toBe(false);
    expect(m('app', { app: '' })).toBe(true);
    expect(m('!app', { app: 'x' })).toBe(false);
    expect(m('app=', { app: '' })).toBe(true);
    expect(m('', { any: 'thing' })).toBe(true);
  });

  it('set-based and numeric requirements, combined with commas', () => {
    expect(m('env in (prod, staging),tier notin (db)', { env: 'prod', tier: 'web' })).toBe(true);
    expect(m('env in (prod,staging)', { env: 'dev' })).toBe(false);
    expect(m('tier notin (db)', {})).toBe(true);
    expect(m('example.com/gen>3', { 'example.com/gen': '4' })).toBe(true);
    expect(m('gen<3', { gen: 'x' })).toBe(false);
  });

  it('malformed selectors are 400 BadRequest', () => {
    for (const bad of [
      'app in',
      'app in ()',
      'app=web,',
      '=web',
      'app==a b',
      'Bad Key=1',
      'a=b!',
      'gen>x',
      'a in (b',
    ]) {
      expect(() => parseLabelSelector(bad), bad).toThrow(BadRequestError);
    }
  });
});

const event = {
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'e', namespace: 'default' },
  involvedObject: { kind: 'Service', name: 'web', namespace: 'default', uid: 'u-1' },
  reason: 'Ensured',
  type: 'Normal',
  source: { component: 'service-controller' },
} as unknown as ApiObject;

describe('field selectors', () => {
  it('selects events the way kubectl describe asks for them', () => {
    const sel = parseFieldSelector(
      'involvedObject.name=web,involvedObject.namespace=default,involvedObject.kind=Service,involvedObject.uid=u-1',
      'Event',
    );
    expect(matchesFields(sel, event, 'Event')).toBe(true);
    expect(matchesFields(parseFieldSelector('source=service-controller,type!=Warning', 'Event'), event, 'Event')).toBe(
      true,
    );
    expect(matchesFields(parseFieldSelector('involvedObject.uid=u-2', 'Event'), event, 'Event')).toBe(false);
  });

  it('pods, services, nodes: per-kind fields; unset is the empty string; booleans as true/false', () => {
    const pod = {
      metadata: { name: 'p' },
      spec: {},
      status: { phase: 'Running', podIPs: [{ ip: '10.0.0.1' }] },
    } as unknown as ApiObject;
    expect(matchesFields(parseFieldSelector('spec.nodeName=', 'Pod'), pod, 'Pod')).toBe(true);
    expect(matchesFields(parseFieldSelector('status.phase==Running,status.podIP=10.0.0.1', 'Pod'), pod, 'Pod')).toBe(
      true,
    );
    expect(matchesFields(parseFieldSelector('spec.hostNetwork=false', 'Pod'), pod, 'Pod')).toBe(true);
    const node = { metadata: { name: 'n' }, spec: { unschedulable: true } } as unknown as ApiObject;
    expect(matchesFields(parseFieldSelector('spec.unschedulable=true', 'Node'), node, 'Node')).toBe(true);
    const svc = { metadata: { name: 'a,b' }, spec: { type: 'NodePort' } } as unknown as ApiObject;
    expect(matchesFields(parseFieldSelector('metadata.name=a\\,b,spec.type=NodePort', 'Service'), svc, 'Service')).toBe(
      true,
    );
  });

  it('unsupported fields and malformed terms are 400, worded as upstream', () => {
    expect(() => parseFieldSelector('spec.type=NodePort', 'Endpoints')).toThrow('field label not supported: spec.type');
    expect(() => parseFieldSelector('nonsense', 'Service')).toThrow(BadRequestError);
    expect(() => parseFieldSelector('metadata.name=a\\x', 'Service')).toThrow(BadRequestError);
  });
});
