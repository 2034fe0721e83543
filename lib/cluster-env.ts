/**
 * The cluster's settings (CLUSTER_NAME, SERVICE_CIDR, NODE_PORT_RANGE, CLUSTER_DOMAIN) read from the environment the
 * CDK construct sets: what every function allocating or validating Services needs. Kept apart from the controller's
 * settings (lib/config-env.ts) so the API function reads them without loading the controller. Invalid values fail
 * fast with the variable's name.
 */
import { parseCidr } from './model/ip.js';
import { DEFAULT_CLUSTER_CONFIG, type ClusterConfig } from './model/types.js';

export class ConfigError extends Error {}

function parseRange(text: string, name: string): { min: number; max: number } {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(text.trim());
  const min = m ? Number(m[1]) : NaN;
  const max = m ? Number(m[2]) : NaN;
  if (!m || min < 1 || max > 65535 || min > max)
    throw new ConfigError(`${name}: expected MIN-MAX within 1-65535, got "${text}"`);
  return { min, max };
}

export function readClusterConfig(env: NodeJS.ProcessEnv = process.env): ClusterConfig {
  const get = (k: string) => (env[k] ?? '').trim() || undefined;
  const serviceCidr = get('SERVICE_CIDR') ?? DEFAULT_CLUSTER_CONFIG.serviceCidr;
  if (!parseCidr(serviceCidr)) throw new ConfigError(`SERVICE_CIDR: not an IPv4 CIDR: "${serviceCidr}"`);
  const range = get('NODE_PORT_RANGE');
  return {
    clusterName: get('CLUSTER_NAME') ?? DEFAULT_CLUSTER_CONFIG.clusterName,
    serviceCidr,
    nodePortRange: range ? parseRange(range, 'NODE_PORT_RANGE') : DEFAULT_CLUSTER_CONFIG.nodePortRange,
    clusterDomain: get('CLUSTER_DOMAIN') ?? DEFAULT_CLUSTER_CONFIG.clusterDomain,
  };
}
