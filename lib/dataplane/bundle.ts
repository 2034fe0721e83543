/**
 * Packaging of rendered artifacts for one push: a bundle per distinct node rendering (content-addressed by the
 * sha256 of its .tgz) and a manifest mapping instance ids to bundles, so ONE SendCommand can serve every node even
 * though rules differ per node: each agent finds its own line by instance id (or the '*' line, rendered for a node
 * with no local endpoints, which is correct for a node that joined after the push was rendered).
 *
 * Formats (read by agent/node-agent.sh with tar, awk and sha256sum only):
 *   manifest.tsv   "<instance-id|*>\t<bundle sha256>\t<location>"  location = inline:bundles/<sha>.tgz | https URL
 *   bundle .tgz    version, ruleset.nft, [delta.nft, delta.base], dnsmasq.conf, externalnames.txt, health.tsv,
 *                  env/<namespace>.env, SHA256SUMS
 * No AWS SDK and no fs: this is data in, bytes out.
 */
import { renderUdpConntrack } from './render/conntrack.js';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { renderDnsConfig, renderExternalNames } from './render/dns.js';
import { renderEnvFiles } from './render/env.js';
import { renderHealthData } from './render/health.js';
import { buildModel, diffModels, renderModel } from './render/nft.js';
import { serviceViews, type DataPlaneState } from './render/state.js';

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
  /** The state of the previous push, when known: bundles then carry a delta from it. */
  prev?: { state: DataPlaneState; version: number };
}

export interface Push {
  version: number;
  /** instance id (or '*') -> bundle sha256 */
  entries: { instanceId: string; sha256: string }[];
  /** bundle sha256 -> .tgz bytes */
  bundles: Map<string, Buffer>;
}

/** Nodes whose rules differ from the '*' rendering: those hosting a ready endpoint of a Local-policy Service. */
function nodeSensitive(state: DataPlaneState): Set<string> {
  const names = new Set<string>();
  for (const v of serviceViews(state)) {
    if (!v.internalLocal && !v.externalLocal) continue;
    for (const p of v.ports) for (const b of p.ready) if (b.nodeName) names.add(b.nodeName);
  }
  return names;
}

function nodeFiles(input: PushInput, nodeName: string, shared: Record<string, string>): Record<string, string> {
  const model = buildModel(input.next, nodeName);
  const files: Record<string, string> = {
    ...shared,
    version: `${input.version}\n`,
    'ruleset.nft': renderModel(model),
    'health.tsv': renderHealthData(input.next, nodeName),
  };
  if (input.prev) {
    files['delta.nft'] = diffModels(buildModel(input.prev.state, nodeName), model);
    files['delta.base'] = `${input.prev.version}\n`;
  }
  files.SHA256SUMS = Object.keys(files)
    .sort()
    .map((f) => `${sha256hex(files[f]!)}  ${f}\n`)
    .join('');
  return files;
}

/** Render every node's bundle for one push. Nodes with identical output share one bundle. */
export function buildPush(input: PushInput): Push {
  const shared: Record<string, string> = {
    'dnsmasq.conf': renderDnsConfig(input.next),
    'externalnames.txt': renderExternalNames(input.next),
    'conntrack.tsv': renderUdpConntrack(input.next),
  };
  for (const [ns, text] of Object.entries(renderEnvFiles(input.next))) shared[`env/${ns}.env`] = text;
  const sensitive = nodeSensitive(input.next);
  if (input.prev) for (const n of nodeSensitive(input.prev.state)) sensitive.add(n);
  const bundles = new Map<string, Buffer>();
  const add = (files: Record<string, string>): string => {
    const b = tgz(files);
    const sha = sha256hex(b);
    bundles.set(sha, b);
    return sha;
  };
  const defaultSha = add(nodeFiles(input, '', shared));
  const entries: Push['entries'] = [];
  for (const node of [...input.next.nodes].sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1))) {
    entries.push({
      instanceId: node.instanceId,
      sha256: sensitive.has(node.name) ? add(nodeFiles(input, node.name, shared)) : defaultSha,
    });
  }
  entries.push({ instanceId: '*', sha256: defaultSha });
  return { version: input.version, entries, bundles };
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
