/**
 * The hostile inputs of issue 11 through the real svcctl binary, a client of the local API (the system it starts in
 * the background over moto): each is refused with one apiserver-style line on stderr, exit code 1, and nothing
 * changes: kubectl's client-side checks refuse what kubectl refuses, the server's strict decoding and validation
 * the rest, and svcctl's dry run of every object keeps the valid object before the bad one from being applied.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, writeManifest, type CliEnv } from '../support/cli.js';

let cli: CliEnv;

async function get(resource: string): Promise<string> {
  const r = await cli.run(['get', resource, '-A', '-o', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

/** Everything a refused apply could have touched, as the API returns it. */
async function snapshot(): Promise<string> {
  return [await get('services'), await get('pods'), await get('endpoints')].join('\n');
}

const VALID = `apiVersion: v1
kind: Service
metadata: {name: keep-me}
spec: {selector: {app: keep}, ports: [{port: 80}]}
`;

beforeAll(async () => {
  cli = cliEnv();
  const r = await cli.run(['apply', '-f', writeManifest(cli.home, 'valid.yaml', VALID)]);
  expect(r.stderr).not.toMatch(/error/i); // progress lines only, while the local control plane is created
  expect(r.stdout).toBe('service/keep-me created\n');
}, 180_000);

afterAll(() => cli?.stop(), 60_000);

const svc = (meta: string, spec = '{ports: [{port: 80}]}') =>
  `apiVersion: v1\nkind: Service\nmetadata: ${meta}\nspec: ${spec}\n`;

const CASES: [string, string, (file: string) => string][] = [
  [
    'spec.ports: [null]',
    svc('{name: web}', '{ports: [null]}'),
    () =>
      'The Service "web" is invalid: spec.ports[0]: Invalid value: "null": spec.ports[0] in body must be of type object: "null"',
  ],
  [
    'an annotation whose value is null',
    svc('{name: web, annotations: {a: null}}'),
    () =>
      'The Service "web" is invalid: metadata.annotations[a]: Invalid value: "null": metadata.annotations[a] in body must be of type string: "null"',
  ],
  [
    'an annotation whose value is a number',
    svc('{name: web, annotations: {a: 5}}'),
    () =>
      'The Service "web" is invalid: metadata.annotations[a]: Invalid value: "integer": metadata.annotations[a] in body must be of type string: "integer"',
  ],
  [
    'an annotation whose value is an object',
    svc('{name: web, annotations: {a: {b: c}}}'),
    () =>
      'The Service "web" is invalid: metadata.annotations[a]: Invalid value: "object": metadata.annotations[a] in body must be of type string: "object"',
  ],
  [
    'labels given as an array',
    svc('{name: web, labels: [app]}'),
    () =>
      'The Service "web" is invalid: metadata.labels: Invalid value: "array": metadata.labels in body must be of type object: "array"',
  ],
  [
    'containers: [null]',
    'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - null\n',
    () =>
      'The Pod "p" is invalid: spec.containers[0]: Invalid value: "null": spec.containers[0] in body must be of type object: "null"',
  ],
  [
    'subsets: [null]',
    'apiVersion: v1\nkind: Endpoints\nmetadata: {name: db}\nsubsets: [~]\n',
    () =>
      'The Endpoints "db" is invalid: subsets[0]: Invalid value: "null": subsets[0] in body must be of type object: "null"',
  ],
  [
    'kind given as an object',
    'apiVersion: v1\nkind: {name: Service}\nmetadata: {name: web}\n',
    (f) =>
      `error: unable to decode "${f}": couldn't get version/kind; json parse error: json: cannot unmarshal object into Go struct field .kind of type string`,
  ],
  [
    'apiVersion given as an object',
    'apiVersion: {v: 1}\nkind: Service\nmetadata: {name: web}\n',
    (f) =>
      `error: unable to decode "${f}": couldn't get version/kind; json parse error: json: cannot unmarshal object into Go struct field .apiVersion of type string`,
  ],
  [
    'valueOf in metadata',
    svc('{name: web, valueOf: 1}'),
    (f) =>
      `Error from server (BadRequest): error when creating "${f}": Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "metadata.valueOf"`,
  ],
  [
    'constructor in spec',
    svc('{name: web}', '{constructor: {}, ports: [{port: 80}]}'),
    (f) =>
      `Error from server (BadRequest): error when creating "${f}": Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.constructor"`,
  ],
  [
    '__proto__ and toString in a port',
    svc('{name: web}', '{ports: [{port: 80, __proto__: {x: 1}, toString: 1}]}'),
    (f) =>
      `Error from server (BadRequest): error when creating "${f}": Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.ports[0].__proto__", unknown field "spec.ports[0].toString"`,
  ],
];

describe('svcctl apply refuses hostile input with one line and changes nothing', () => {
  let before: { services: string; all: string };
  beforeAll(async () => {
    before = { services: await get('services'), all: await snapshot() };
  }, 120_000);

  it.each(CASES)(
    '%s',
    async (name, text, message) => {
      // The bad object comes after a valid one in the same file: the valid one must not be applied either.
      const file = writeManifest(
        cli.home,
        `${name.replace(/\W+/g, '-')}.yaml`,
        `${VALID.replace('keep-me', 'first')}---\n${text}`,
      );
      const r = await cli.run(['apply', '-f', file]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`${message(file)}\n`);
      expect(await get('services')).toBe(before.services);
    },
    60_000,
  );

  it('left services, pods and endpoints exactly as they were', async () => {
    expect(await snapshot()).toBe(before.all);
  }, 60_000);
});
