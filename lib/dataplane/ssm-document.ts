/**
 * The SSM Command document that applies the data plane on a node, as data (infra/ creates the AWS::SSM::Document
 * from `ssmDocumentContent()`). One document version serves every push: what changes per push are the parameters,
 * and every parameter is data validated by allowedPattern (SSM refuses a SendCommand whose values do not match), then
 * substituted into single-quoted shell assignments; none of the patterns admits a quote, so no value can leave its
 * quotes. No Service field is ever part of the command: Services reach the node only inside the sha256-verified
 * bundle, as files that nft, dnsmasq and the helpers parse, never as shell text.
 *
 * Size: SSM documents are limited to 64 KB of content, and the document plus the parameter values of a SendCommand
 * must stay within that budget too. The document (agent + helpers) is ~37 KB of JSON (a test keeps it under 40 KB);
 * `INLINE_BUDGET` keeps the inline parameter at <= 16 KB of base64, so a command is <= ~53 KB, leaving >= 10 KB of
 * headroom. Larger pushes go through S3 (presigned manifest URL).
 */
import { readFileSync } from 'node:fs';
import { repoPath } from '../repo-path.js';

export const DOCUMENT_SCHEMA_VERSION = '2.2';
/** Max characters of the base64 inline parameter (see the size note above). */
export const INLINE_BUDGET = 16 * 1024;
/** Run Command timeout for one apply: downloads + nft + dnsmasq restart take seconds; this bounds a stuck node. */
export const EXECUTION_TIMEOUT_SECONDS = 300;
/** Where the document installs the Python helpers on a node (under SSC_ROOT in tests). */
export const AGENT_DIR = '/opt/sscontroller';

export const PARAMETER_PATTERNS = {
  version: '^[0-9]{1,15}$',
  mode: '^(full|delta)$',
  manifestSha256: '^[0-9a-f]{64}$',
  // https presigned S3 URL (http only for local mode against moto); no quote, space or backslash can match.
  manifestUrl: '^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/[A-Za-z0-9._~/%+=&?-]*)?$',
  inline: `^[A-Za-z0-9+/=]{0,${INLINE_BUDGET}}$`,
} as const;

export type DataPlaneParameters = Record<keyof typeof PARAMETER_PATTERNS, string>;

const read = (rel: string): string => readFileSync(repoPath(`agent/${rel}`), 'utf8');

/** Embeds a file with a quoted here-document (no expansion inside), refusing content that would break it. */
function embed(dest: string, content: string, marker: string): string[] {
  // SSM substitutes `{{ name }}` anywhere in the document, so embedded files must not contain `{{`; and the
  // here-document terminator must not appear as a line of its own.
  if (content.includes('{{')) throw new Error(`${dest}: embedded file must not contain "{{"`);
  if (content.split('\n').includes(marker)) throw new Error(`${dest}: contains the here-document marker`);
  return [`cat > "${dest}" <<'${marker}'`, ...content.replace(/\n$/, '').split('\n'), marker];
}

/**
 * The runShellScript lines: parameters as quoted data, the helpers installed, then the agent script itself. The
 * preamble is plain POSIX sh (SSM may run the script with /bin/sh, which is dash on Ubuntu); only the agent, started
 * with `exec bash`, needs bash.
 */
export function runCommandLines(): string[] {
  const agent = read('node-agent.sh');
  if (agent.includes('{{')) throw new Error('node-agent.sh must not contain "{{"');
  return [
    '#!/usr/bin/env bash',
    "export SSC_VERSION='{{ version }}'",
    "export SSC_MODE='{{ mode }}'",
    "export SSC_MANIFEST_SHA256='{{ manifestSha256 }}'",
    "export SSC_MANIFEST_URL='{{ manifestUrl }}'",
    "export SSC_INLINE='{{ inline }}'",
    `export SSC_AGENT_DIR="\${SSC_ROOT:-}${AGENT_DIR}"`,
    'mkdir -p "$SSC_AGENT_DIR"',
    ...embed('$SSC_AGENT_DIR/healthcheck.py', read('healthcheck.py'), 'SSC_EOF_HEALTHCHECK'),
    ...embed('$SSC_AGENT_DIR/dns-responder.py', read('dns-responder.py'), 'SSC_EOF_DNS_RESPONDER'),
    ...embed('$SSC_AGENT_DIR/nft-sync.awk', read('nft-sync.awk'), 'SSC_EOF_NFT_SYNC'),
    // The agent runs in a child bash so its `exit` and traps stay its own; stdout (the JSON line) passes through.
    ...embed('$SSC_AGENT_DIR/node-agent.sh', agent, 'SSC_EOF_AGENT'),
    'exec bash "$SSC_AGENT_DIR/node-agent.sh"',
  ];
}

export interface SsmCommandDocument {
  schemaVersion: string;
  description: string;
  parameters: Record<string, { type: 'String'; description: string; allowedPattern: string; default?: string }>;
  mainSteps: {
    action: 'aws:runShellScript';
    name: string;
    precondition: { StringEquals: [string, string] };
    inputs: { runCommand: string[]; timeoutSeconds: string };
  }[];
}

export function ssmDocumentContent(): SsmCommandDocument {
  return {
    schemaVersion: DOCUMENT_SCHEMA_VERSION,
    description:
      'serverless-service-controller: apply Service rules (nftables), cluster DNS (dnsmasq), env files and health data on this node.',
    parameters: {
      version: { type: 'String', description: 'Data-plane version.', allowedPattern: PARAMETER_PATTERNS.version },
      mode: {
        type: 'String',
        description: 'full, or delta (small transaction when the node is one version behind).',
        allowedPattern: PARAMETER_PATTERNS.mode,
        default: 'delta',
      },
      manifestSha256: {
        type: 'String',
        description: 'sha256 of the manifest (or of the inline archive).',
        allowedPattern: PARAMETER_PATTERNS.manifestSha256,
      },
      manifestUrl: {
        type: 'String',
        description: 'Presigned S3 URL of the manifest; empty when inline is set.',
        allowedPattern: PARAMETER_PATTERNS.manifestUrl,
        default: '',
      },
      inline: {
        type: 'String',
        description: 'Base64 gzip tar of the manifest and bundles, for small pushes; empty otherwise.',
        allowedPattern: PARAMETER_PATTERNS.inline,
        default: '',
      },
    },
    mainSteps: [
      {
        action: 'aws:runShellScript',
        name: 'applyDataPlane',
        precondition: { StringEquals: ['platformType', 'Linux'] },
        inputs: { runCommand: runCommandLines(), timeoutSeconds: String(EXECUTION_TIMEOUT_SECONDS) },
      },
    ],
  };
}

/** Checks parameters against the document's allowedPattern exactly as SSM does before running anything. */
export function validateParameters(params: DataPlaneParameters): void {
  for (const [k, pattern] of Object.entries(PARAMETER_PATTERNS)) {
    const v = params[k as keyof DataPlaneParameters];
    if (typeof v !== 'string' || !new RegExp(pattern).test(v))
      throw new Error(`parameter ${k} does not match allowedPattern ${pattern}`);
  }
}

/** Parameters substituted the way SSM substitutes them: `{{ name }}` (any inner spacing) -> value. */
export function substituteParameters(lines: readonly string[], params: Record<string, string>): string[] {
  return lines.map((l) =>
    l.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (m, name: string) => (name in params ? params[name]! : m)),
  );
}
