/**
 * Packaging of rendered artifacts for one push: a bundle per distinct node rendering (content-addressed by the
 * sha256 of its .tgz) and a manifest mapping instance ids to bundles, so ONE SendCommand can serve every node even
 * though rules differ per node: each agent finds its own line by instance id (or the '*' line, rendered for a node
 * with no local endpoints, which is correct for a node that joined after the push was rendered).
 *
 * Formats (read by agent/node-agent.sh with tar, awk and sha256sum only):
 *   manifest.tsv   "<instance-id|*>\t<bundle sha256>\t<location>"  location = inline:bundles/<sha>.tgz | https URL
 *   bundle .tgz    version, ruleset.nft, [delta.nft, delta.base], dnsmasq.conf, dns/{hosts,servers,records}, pod-dns.tsv,
 *                  health.tsv,
 *                  env/<namespace>.env, SHA256SUMS
 * No AWS SDK and no fs: this is data in, bytes out.
 */
import { renderUdpConntrack } from './render/conntrack.js';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { renderDns } from './render/dns.js';
import { renderEnvFiles } from './render/env.js';
import { renderHealthData } from './render/health.js';
import { renderPodDns } from './render/resolv.js';
import { buildModel, diffModels, renderModel } from './render/nft.js';
import { checkState, serviceViews, type DataPlaneState, type ServiceView } from './render/state.js';

export const sha256hex = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** Minimal deterministic ustar writer (regular files only; GNU tar creates parent directories on extraction). */
export function tar(files: Record<string, string | Buffer>): Buffer {
  const blocks: Buffer[] = [];
  for (const [path, content] of Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
    if (Buffer.byteLength(path) > 100) throw new Error(`tar path too long: ${path}`);
    const h = Buffer.alloc(512);
    h.write(path, 0, 'utf8');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(data.length.toString(8).padStart(11, '0') + '\0', 124);
    h.write('00000000000\0', 136); // mtime 0: identical content gives identical bytes and sha256
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const byte of h) sum += byte;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export const tgz = (files: Record<string, string | Buffer>): Buffer => gzipSync(tar(files), { level: 9 });

export interface PushInput {
  next: DataPlaneState;
  version: number;
  /** Delta base of every node not in `nodeBases`, and of the '*' entry (usually the previous push). */
  prev?: { state: DataPlaneState; version: number };
  /**
   * Nodes that stand at another version than `prev` (each node's applied version, as SSM reported it): their bundle
   * carries a delta from that version's state, or the full ruleset only when the state is not at hand.
   */
  nodeBases?: { version: number; state?: DataPlaneState; instanceIds: string[] }[];
}

export interface Push {
  version: number;
  /** instance id (or '*') -> bundle sha256; nodes whose bundle is the '*' one are not listed. */
  entries: { instanceId: string; sha256: string }[];
  /** bundle sha256 -> .tgz bytes */
  bundles: Map<string, Buffer>;
  /** Content digest (contentDigest) of each node-specific rendering, and of every other node's under '*'. */
  digests: Record<string, string>;
}

/** Nodes whose rules differ from the '*' rendering: those hosting a ready endpoint of a Local-policy Service. */
function nodeSensitive(views: readonly ServiceView[]): Set<string> {
  const names = new Set<string>();
  for (const v of views) {
    if (!v.internalLocal && !v.externalLocal) continue;
    for (const p of v.ports) for (const b of p.ready) if (b.nodeName) names.add(b.nodeName);
  }
  return names;
}

/** Files of a bundle that are the same whatever version or base: what a node ends up holding. */
const PER_VERSION = new Set(['version', 'delta.nft', 'delta.base', 'SHA256SUMS']);

/** Digest of what a node holds after applying a bundle (rules, DNS, env, health): equal digests, nothing to send. */
export function contentDigest(files: Record<string, string>): string {
  return sha256hex(
    Object.keys(files)
      .filter((f) => !PER_VERSION.has(f))
      .sort()
      .map((f) => `${f} ${sha256hex(files[f]!)}\n`)
      .join(''),
  );
}

interface Rendering {
  files: Record<string, string>;
  model: ReturnType<typeof buildModel>;
}

function withBase(
  r: Rendering,
  nodeName: string,
  base: { version: number; state?: DataPlaneState } | undefined,
): Record<string, string> {
  const files = { ...r.files };
  const delta = base?.state && diffModels(buildModel(base.state, nodeName), r.model);
  if (base && delta !== undefined) {
    files['delta.nft'] = delta;
    files['delta.base'] = `${base.version}\n`;
  }
  files.SHA256SUMS = Object.keys(files)
    .sort()
    .map((f) => `${sha256hex(files[f]!)}  ${f}\n`)
    .join('');
  return files;
}

export interface PreparedPush {
  /** Content digest of each node-specific rendering by instance id, and of every other node's under '*'. */
  digests: Record<string, string>;
  /** Bundles for `version`, each a delta from the version its node stands at (see PushInput). */
  build(args: Omit<PushInput, 'next'>): Push;
}

/**
 * Renders the desired state once per distinct node rendering and digests it, so a caller can tell "nothing changed"
 * without allocating a version or compressing anything; `build` then makes the bundles.
 */
export function preparePush(next: DataPlaneState): PreparedPush {
  // Validated once; every renderer reads the same views.
  const checked = checkState(next);
  const dns = renderDns(checked);
  const shared: Record<string, string> = {
    'dnsmasq.conf': dns.conf,
    'dns/hosts': dns.hosts,
    'dns/servers': dns.servers,
    'dns/records': dns.records,
    'pod-dns.tsv': renderPodDns(checked),
    'conntrack.tsv': renderUdpConntrack(checked),
  };
  for (const [ns, text] of Object.entries(renderEnvFiles(checked))) shared[`env/${ns}.env`] = text;
  const renderings = new Map<string, Rendering>();
  const rendering = (nodeName: string): Rendering => {
    let r = renderings.get(nodeName);
    if (!r) {
      const model = buildModel(checked, nodeName);
      const files = { ...shared, 'ruleset.nft': renderModel(model), 'health.tsv': renderHealthData(checked, nodeName) };
      renderings.set(nodeName, (r = { files, model }));
    }
    return r;
  };
  const sensitive = nodeSensitive(checked.views);
  const digests: Record<string, string> = { '*': contentDigest(rendering('').files) };
  for (const n of next.nodes) if (sensitive.has(n.name)) digests[n.instanceId] = contentDigest(rendering(n.name).files);
  return { digests, build: (args) => ({ ...bundleAll(next, rendering, sensitive, args), digests }) };
}

function bundleAll(
  next: DataPlaneState,
  rendering: (nodeName: string) => Rendering,
  sensitiveNext: Set<string>,
  args: Omit<PushInput, 'next'>,
): Omit<Push, 'digests'> {
  const sensitive = new Set(sensitiveNext);
  for (const b of [args.prev, ...(args.nodeBases ?? [])])
    // Bases are states pushed before (validated then): their views only, no second validation on the push path.
    if (b?.state) for (const n of nodeSensitive(serviceViews(b.state))) sensitive.add(n);
  const bundles = new Map<string, Buffer>();
  const add = (name: string, base: { version: number; state?: DataPlaneState } | undefined): string => {
    const r = rendering(name);
    const b = tgz(withBase({ ...r, files: { ...r.files, version: `${args.version}\n` } }, name, base));
    const sha = sha256hex(b);
    bundles.set(sha, b);
    return sha;
  };
  const defaultSha = add('', args.prev);
  const baseOf = new Map<string, { version: number; state?: DataPlaneState }>();
  for (const b of args.nodeBases ?? []) for (const id of b.instanceIds) baseOf.set(id, b);
  const entries: Push['entries'] = [];
  for (const node of [...next.nodes].sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1))) {
    const name = sensitive.has(node.name) ? node.name : '';
    if (!name && !baseOf.has(node.instanceId)) continue; // the '*' bundle is this node's
    const sha = add(name, baseOf.get(node.instanceId) ?? args.prev);
    if (sha !== defaultSha) entries.push({ instanceId: node.instanceId, sha256: sha });
  }
  entries.push({ instanceId: '*', sha256: defaultSha });
  return { version: args.version, entries, bundles };
}

/** Render every node's bundle for one push. Nodes with identical output share one bundle. */
export function buildPush(input: PushInput): Push {
  return preparePush(input.next).build(input);
}

/** Same content everywhere: no node needs anything new. */
export function sameDigests(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

export function renderManifest(push: Push, location: (sha: string) => string): string {
  return push.entries.map((e) => `${e.instanceId}\t${e.sha256}\t${location(e.sha256)}\n`).join('');
}

/** The inline form: one .tgz holding manifest.tsv and bundles/<sha>.tgz, carried base64 in the SSM parameter. */
export function inlineArchive(push: Push): Buffer {
  const files: Record<string, string | Buffer> = {
    'manifest.tsv': renderManifest(push, (sha) => `inline:bundles/${sha}.tgz`),
  };
  for (const [sha, b] of push.bundles) files[`bundles/${sha}.tgz`] = b;
  // already-compressed bundles: gzip again only for the tar padding; the cost is negligible.
  return tgz(files);
}
