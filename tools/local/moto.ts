/**
 * Starting and stopping moto server, the local AWS used by `npm start`, `svcctl` in local mode and the tests.
 * moto speaks the real AWS wire protocols (EC2, ELBv2, SSM, DynamoDB, S3, EventBridge, SQS) on one port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { repoPath } from '../../lib/repo-path.js';

/** moto's server with item-level rollback of DynamoDB transactions (see moto_server.py for why). */
const motoLauncher = (): string => repoPath('tools/local/moto_server.py');

export const MOTO_MISSING_MESSAGE =
  'moto server is required but was not found: `python3 -c "import moto.server"` failed.\n' +
  'Install it with:  pip install "moto[server]"';

/** True when `python3 -m moto.server` can run on this machine. */
export function motoAvailable(): boolean {
  const r = spawnSync('python3', ['-c', 'import moto.server, flask'], { stdio: 'ignore' });
  return r.status === 0;
}

/** A free TCP port on 127.0.0.1 (bind port 0, read it back, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface MotoServer {
  endpoint: string;
  port: number;
  pid: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

async function waitReady(endpoint: string, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto server exited early with code ${child.exitCode}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      if (res.status < 500) return;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`moto server did not become ready at ${endpoint} within ${timeoutMs} ms: ${String(lastErr)}`);
}

/** Starts moto server (`python3 moto_server.py -H 127.0.0.1 -p PORT`) on a free loopback port; waits until it answers. */
export async function startMoto(
  opts: { port?: number; detached?: boolean; logFile?: number } = {},
): Promise<MotoServer> {
  if (!motoAvailable()) throw new Error(MOTO_MISSING_MESSAGE);
  const port = opts.port ?? (await freePort());
  const child = spawn('python3', [motoLauncher(), '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', opts.logFile ?? 'ignore', opts.logFile ?? 'ignore'],
    detached: opts.detached ?? false,
    env: { ...process.env, MOTO_CALL_RESET_API: 'true' },
  });
  const endpoint = `http://127.0.0.1:${port}`;
  await waitReady(endpoint, 30_000, child);
  const pid = child.pid ?? -1;
  return {
    endpoint,
    port,
    pid,
    process: child,
    stop: () => stopPid(pid),
  };
}

/** Stops a process by PID: SIGTERM, then SIGKILL if it is still there after 3 s. */
export async function stopPid(pid: number): Promise<void> {
  if (pid <= 0) return;
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 30 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** The environment that points the AWS SDK and the aws CLI at a local endpoint, with dummy credentials. */
export function localAwsEnv(endpoint: string, region = 'us-east-1'): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
  };
}
