/**
 * A Pod's resolv.conf exactly as the kubelet composes it for dnsPolicy ClusterFirst (pkg/kubelet/network/dns/dns.go)
 * and the container runtime writes it:
 *
 *   search <ns>.svc.<domain> svc.<domain> <domain> [the node's own search domains, duplicates dropped]
 *   nameserver <cluster DNS>
 *   options ndots:5
 *
 * so `nginx`, `nginx.default` and `nginx.default.svc` resolve from a Pod as they do on Kubernetes. The kubelet's
 * limits apply (ExpandedDNSConfig, GA since 1.28): at most 32 search domains, none longer than 253 characters, the
 * line at most 2048 characters, dropping from the end. Pure.
 */
import { renderEnvFiles } from './env.js';
import { checkState, type CheckedState, type DataPlaneState } from './state.js';

export const MAX_DNS_SEARCH_PATHS = 32;
export const MAX_DNS_SEARCH_LIST_CHARS = 2048;
export const MAX_SEARCH_DOMAIN_CHARS = 253;
/** kubelet's defaultDNSOptions. */
export const POD_DNS_OPTIONS = ['ndots:5'];

export interface PodDnsConfig {
  nameservers: string[];
  searches: string[];
  options: string[];
}

/** The cluster part of a ClusterFirst Pod's search list. */
export function clusterSearches(namespace: string, clusterDomain: string): string[] {
  const d = clusterDomain.replace(/\.$/, '');
  return [`${namespace}.svc.${d}`, `svc.${d}`, d];
}

function fitSearches(searches: string[]): string[] {
  const out = [...new Set(searches.map((s) => s.replace(/\.$/, '')))]
    .slice(0, MAX_DNS_SEARCH_PATHS)
    .filter((s) => s.length <= MAX_SEARCH_DOMAIN_CHARS);
  while (out.join(' ').length > MAX_DNS_SEARCH_LIST_CHARS) out.pop();
  return out;
}

/** ClusterFirst: the cluster DNS is the only nameserver; the node's search domains follow the cluster's. */
export function clusterFirstDns(args: {
  namespace: string;
  clusterDomain: string;
  clusterDns: string[];
  hostSearch?: string[];
}): PodDnsConfig {
  return {
    nameservers: [...args.clusterDns],
    searches: fitSearches([...clusterSearches(args.namespace, args.clusterDomain), ...(args.hostSearch ?? [])]),
    options: [...POD_DNS_OPTIONS],
  };
}

/** The file as the container runtime writes it. */
export function formatResolvConf(c: PodDnsConfig): string {
  const lines: string[] = [];
  if (c.searches.length) lines.push(`search ${c.searches.join(' ')}`);
  for (const ns of c.nameservers) lines.push(`nameserver ${ns}`);
  if (c.options.length) lines.push(`options ${c.options.join(' ')}`);
  return lines.join('\n') + '\n';
}

/**
 * `pod-dns.tsv` for the node agent, which writes the ClusterFirst resolv.conf of each namespace with its own DNS
 * listen address as nameserver and the node's search domains appended, and a KubeletConfiguration fragment
 * (clusterDNS, clusterDomain) for a kubelet on the node. Lines:
 *   domain <TAB> <cluster domain>
 *   options <TAB> <options...>
 *   search <TAB> <namespace> <TAB> <search domains...>     one per namespace that has Services (and default)
 */
export function renderPodDns(input: DataPlaneState | CheckedState): string {
  const checked = checkState(input);
  const { state } = checked;
  const domain = state.cfg.clusterDomain.replace(/\.$/, '').toLowerCase();
  const lines = [`domain\t${domain}`, `options\t${POD_DNS_OPTIONS.join(' ')}`];
  for (const ns of Object.keys(renderEnvFiles(checked)).sort())
    lines.push(`search\t${ns}\t${clusterSearches(ns, domain).join(' ')}`);
  return lines.join('\n') + '\n';
}
