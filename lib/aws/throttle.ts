/**
 * Client-side token buckets in front of the ELBv2 API. AWS throttles ELBv2 per account and region (the
 * RegisterTargets/DeregisterTargets family has a much lower rate than describes), and one throttled call slows every
 * controller in the account; staying under the rate is cheaper than retrying. The SDK's adaptive retry (see
 * lib/aws/clients.ts) still handles whatever throttling happens anyway.
 *
 * The clock is injectable so benchmarks can measure on simulated time what the buckets allow.
 */

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/**
 * A simulated clock: sleep() advances time instantly. Concurrent sleepers wake in deadline order, so concurrency
 * behaves as it would on a real clock (time only moves forward to the earliest pending deadline).
 */
export class SimulatedClock implements Clock {
  private t = 0;
  private waiters: { at: number; resolve: () => void }[] = [];
  private scheduled = false;
  now(): number {
    return this.t;
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ at: this.t + Math.max(0, ms), resolve });
      this.schedule();
    });
  }
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Let every runnable task reach its next sleep() (or real I/O) before time jumps.
    setImmediate(() => {
      this.scheduled = false;
      if (this.waiters.length === 0) return;
      this.waiters.sort((a, b) => a.at - b.at);
      const first = this.waiters.shift()!;
      this.t = Math.max(this.t, first.at);
      first.resolve();
      if (this.waiters.length > 0) this.schedule();
    });
  }
}

export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();
  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
  }

  /** Waits until a token is available and takes it. Callers are served in FIFO order. */
  take(): Promise<void> {
    const next = this.queue.then(async () => {
      this.refill();
      while (this.tokens < 1) {
        await this.clock.sleep(((1 - this.tokens) / this.ratePerSecond) * 1000);
        this.refill();
      }
      this.tokens -= 1;
    });
    this.queue = next;
    return next;
  }
}

export interface ThrottleOptions {
  clock?: Clock;
  /** RegisterTargets / DeregisterTargets. */
  targetsRate?: number;
  targetsBurst?: number;
  /** Every other ELBv2 call. */
  elbv2Rate?: number;
  elbv2Burst?: number;
}

/** The buckets for one controller process. `bucketFor` maps an SDK command name to its bucket. */
export class Throttle {
  readonly clock: Clock;
  readonly targets: TokenBucket;
  readonly elbv2: TokenBucket;
  constructor(opts: ThrottleOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.targets = new TokenBucket(opts.targetsRate ?? 4, opts.targetsBurst ?? 20, this.clock);
    this.elbv2 = new TokenBucket(opts.elbv2Rate ?? 10, opts.elbv2Burst ?? 40, this.clock);
  }
  bucketFor(commandName: string): TokenBucket {
    return commandName === 'RegisterTargetsCommand' || commandName === 'DeregisterTargetsCommand'
      ? this.targets
      : this.elbv2;
  }
  async take(commandName: string): Promise<void> {
    await this.bucketFor(commandName).take();
  }
}
