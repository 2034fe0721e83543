/**
 * Pod rows as kube-apiserver prints them (printPod): READY counts ready containers (restartable init containers,
 * i.e. sidecars, included), STATUS is the phase refined by the init-container and container states
 * (Init:N/M, Init:<reason>, CrashLoopBackOff, Completed, Terminating, ...), RESTARTS adds "(<age> ago)" for the last
 * restart. Wide columns: IP, NODE, NOMINATED NODE, READINESS GATES.
 */
import type { V1Container, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { since } from './duration.js';

interface PodState {
  reason: string;
  ready: number;
  restarts: number;
  lastRestart: number;
}

const isSidecar = (c: V1Container | undefined): boolean => c?.restartPolicy === 'Always';
const finishedAt = (s: V1ContainerStatus): number => {
  const t = s.lastState?.terminated?.finishedAt;
  return t ? new Date(t as unknown as string).getTime() : 0;
};

/** Walks init containers until the first one still blocking; returns whether the pod is still initializing. */
function initState(pod: V1Pod, st: PodState, sidecar: PodState): boolean {
  const specs = new Map((pod.spec?.initContainers ?? []).map((c) => [c.name, c]));
  const statuses = pod.status?.initContainerStatuses ?? [];
  for (let i = 0; i < statuses.length; i++) {
    const c = statuses[i]!;
    st.restarts += c.restartCount ?? 0;
    st.lastRestart = Math.max(st.lastRestart, finishedAt(c));
    const sc = isSidecar(specs.get(c.name));
    if (sc) {
      sidecar.restarts += c.restartCount ?? 0;
      sidecar.lastRestart = Math.max(sidecar.lastRestart, finishedAt(c));
    }
    const term = c.state?.terminated;
    const wait = c.state?.waiting;
    if (term && term.exitCode === 0) continue;
    if (sc && c.started) {
      if (c.ready) st.ready++;
      continue;
    }
    if (term) {
      st.reason = term.reason
        ? `Init:${term.reason}`
        : term.signal
          ? `Init:Signal:${term.signal}`
          : `Init:ExitCode:${term.exitCode}`;
    } else if (wait?.reason && wait.reason !== 'PodInitializing') {
      st.reason = `Init:${wait.reason}`;
    } else {
      st.reason = `Init:${i}/${pod.spec?.initContainers?.length ?? 0}`;
    }
    return true;
  }
  return false;
}

function containerState(pod: V1Pod, st: PodState): void {
  let hasRunning = false;
  const statuses = pod.status?.containerStatuses ?? [];
  for (let i = statuses.length - 1; i >= 0; i--) {
    const c = statuses[i]!;
    st.restarts += c.restartCount ?? 0;
    st.lastRestart = Math.max(st.lastRestart, finishedAt(c));
    const term = c.state?.terminated;
    if (c.state?.waiting?.reason) st.reason = c.state.waiting.reason;
    else if (term?.reason) st.reason = term.reason;
    else if (term) st.reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode}`;
    else if (c.ready && c.state?.running) {
      hasRunning = true;
      st.ready++;
    }
  }
  if (st.reason === 'Completed' && hasRunning) {
    const ready = (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
    st.reason = ready ? 'Running' : 'NotReady';
  }
}

function podState(pod: V1Pod): PodState {
  let reason = pod.status?.reason || pod.status?.phase || '';
  if ((pod.status?.conditions ?? []).some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) {
    reason = 'SchedulingGated';
  }
  const st: PodState = { reason, ready: 0, restarts: 0, lastRestart: 0 };
  const sidecar: PodState = { reason, ready: 0, restarts: 0, lastRestart: 0 };
  const initializing = initState(pod, st, sidecar);
  const initialized = (pod.status?.conditions ?? []).some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initialized) {
    st.restarts = sidecar.restarts;
    st.lastRestart = sidecar.lastRestart;
    containerState(pod, st);
  }
  const phase = pod.status?.phase;
  if (pod.metadata?.deletionTimestamp && pod.status?.reason === 'NodeLost') st.reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') st.reason = 'Terminating';
  return st;
}

function readinessGates(pod: V1Pod): string {
  const gates = pod.spec?.readinessGates ?? [];
  if (gates.length === 0) return '<none>';
  const conds = pod.status?.conditions ?? [];
  const ok = gates.filter((g) => conds.find((c) => c.type === g.conditionType)?.status === 'True').length;
  return `${ok}/${gates.length}`;
}

export function podCells(pod: V1Pod, age: string, now: number): unknown[] {
  const st = podState(pod);
  const total =
    (pod.spec?.containers?.length ?? 0) + (pod.spec?.initContainers ?? []).filter((c) => isSidecar(c)).length;
  const restarts =
    st.restarts !== 0 && st.lastRestart > 0
      ? `${st.restarts} (${since(new Date(st.lastRestart), now)} ago)`
      : String(st.restarts);
  return [
    pod.metadata?.name ?? '',
    `${st.ready}/${total}`,
    st.reason,
    restarts,
    age,
    pod.status?.podIPs?.[0]?.ip || '<none>',
    pod.spec?.nodeName || '<none>',
    pod.status?.nominatedNodeName || '<none>',
    readinessGates(pod),
  ];
}

/** Completed pods carry a row condition (kubectl uses it to mark them). */
export function podRowConditions(pod: V1Pod): { type: string; status: string; reason: string; message: string }[] {
  if (pod.status?.phase === 'Succeeded') {
    return [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
  }
  if (pod.status?.phase === 'Failed') {
    return [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
  }
  return [];
}
