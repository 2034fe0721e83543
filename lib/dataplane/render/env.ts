/**
 * Service environment variables in the kubelet's format (pkg/kubelet/envvars): for each Service with a ClusterIP
 * (not headless, not ExternalName) in the Pod's namespace, plus the master Service `kubernetes` from `default`:
 *   FOO_SERVICE_HOST=10.0.0.11
 *   FOO_SERVICE_PORT=6379                    first port
 *   FOO_SERVICE_PORT_<PORTNAME>=6379         each named port
 *   FOO_PORT=tcp://10.0.0.11:6379            Docker-link style, first port
 *   FOO_PORT_6379_TCP=tcp://10.0.0.11:6379   and _PROTO, _PORT, _ADDR, for each port
 * Names are upper-cased with '-' turned into '_'. Pure: no AWS SDK, no fs.
 */
import { checkState, type CheckedState, type DataPlaneState, type ServiceView } from './state.js';

const envName = (s: string): string => s.toUpperCase().replace(/-/g, '_');

function serviceVars(v: ServiceView): string[] {
  const out: string[] = [];
  const name = envName(v.name);
  const first = v.ports[0];
  if (!first) return out; // the kubelet skips Services without ports too (it needs the first port)
  const host = v.clusterIP!;
  out.push(`${name}_SERVICE_HOST=${host}`);
  out.push(`${name}_SERVICE_PORT=${first.port}`);
  for (const p of v.ports) if (p.name) out.push(`${name}_SERVICE_PORT_${envName(p.name)}=${p.port}`);
  out.push(`${name}_PORT=${first.protocol.toLowerCase()}://${host}:${first.port}`);
  for (const p of v.ports) {
    const proto = p.protocol.toLowerCase();
    const prefix = `${name}_PORT_${p.port}_${p.protocol.toUpperCase()}`;
    out.push(`${prefix}=${proto}://${host}:${p.port}`);
    out.push(`${prefix}_PROTO=${proto}`);
    out.push(`${prefix}_PORT=${p.port}`);
    out.push(`${prefix}_ADDR=${host}`);
  }
  return out;
}

/** One env file per namespace that has Services (plus every namespace with none but the master Service). */
export function renderEnvFiles(input: DataPlaneState | CheckedState): Record<string, string> {
  const { state, proxied: views } = checkState(input);
  const master = views.find((v) => v.namespace === 'default' && v.name === 'kubernetes');
  const namespaces = new Set<string>(views.map((v) => v.namespace));
  for (const s of state.services) namespaces.add(s.metadata?.namespace ?? 'default');
  const files: Record<string, string> = {};
  for (const ns of [...namespaces].sort()) {
    const mine = views.filter((v) => v.namespace === ns);
    // The master Service is always visible; in its own namespace it is already in `mine`.
    const all = master && ns !== 'default' ? [...mine, master] : mine;
    all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const lines = all.flatMap(serviceVars);
    files[ns] = lines.length ? lines.join('\n') + '\n' : '';
  }
  return files;
}
