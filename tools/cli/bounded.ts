/**
 * Bounded concurrency for commands that send many requests (`svcctl apply` of a large file): a limiter that keeps
 * at most N calls in flight, and `settle` to keep every outcome so that results and errors can be reported in input
 * order, whatever order the answers come back in.
 */

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

/** `run(fn)` starts fn when fewer than `n` runs are in flight, else when one ends (first come, first served). */
export function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    if (active < n) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next in line, so `active` only drops when nobody waits.
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
