/**
 * One poll loop per process over the store's change log (kine's model: the log is polled, not pushed), shared by
 * every watch and by the watch cache however many there are. It keeps a window of recent entries in memory, so a
 * watcher at or near the head is served from memory; a watcher further behind reads the log itself until it
 * reaches the window. It polls only while someone waits (a watcher, a consistent read, the cache), every
 * `pollIntervalMs`, and at once when a consistent read asks for a revision it has not applied yet.
 */
import { GoneError } from '../errors.js';
import type { ChangeLog, LogEntry } from '../store/types.js';

export interface TailerOptions {
  /** Delay between polls while idle at the head (default 150 ms). */
  pollIntervalMs?: number;
  /** Entries per log read (default 500). */
  batch?: number;
  /** Entries kept in memory (default 5000). */
  window?: number;
}

/** Receives every entry in revision order, synchronously; `reset` when the tailer lost its place (compaction). */
export interface TailListener {
  apply(e: LogEntry): void;
  reset(): void;
}

export class LogTailer {
  private readonly pollMs: number;
  private readonly batch: number;
  private readonly windowSize: number;
  /** Highest revision applied; undefined until the first poll. */
  private position: number | undefined;
  private window: LogEntry[] = [];
  private readonly listeners = new Set<TailListener>();
  private waiters = 0;
  private wakeLoop?: () => void;
  /** A consistent read asked for a fresh poll while one was running: poll again without sleeping. */
  private wakeRequested = false;
  private readonly progress = new Set<() => void>();
  /** The poll loop runs; set and cleared synchronously so a waiter arriving as it stops starts a new one. */
  private running = false;
  private closed = false;
  /** True once close() ran: nothing will arrive any more, so watches end instead of waiting (or spinning). */
  get isClosed(): boolean {
    return this.closed;
  }

  constructor(
    private readonly log: ChangeLog,
    opts: TailerOptions = {},
  ) {
    this.pollMs = opts.pollIntervalMs ?? 150;
    this.batch = opts.batch ?? 500;
    this.windowSize = opts.window ?? 5000;
  }

  /** The highest revision applied so far (undefined before the first poll). */
  get applied(): number | undefined {
    return this.position;
  }

  addListener(l: TailListener): () => void {
    this.listeners.add(l);
    this.ensureLoop();
    return () => void this.listeners.delete(l);
  }

  /** Resolves once every entry up to `rev` has been applied (a consistent read's wait). */
  async waitFor(rev: number, signal?: AbortSignal): Promise<void> {
    while ((this.position ?? -1) < rev && !signal?.aborted && !this.closed) await this.nextProgress(signal, true);
  }

  /**
   * Entries with revision > `after`, oldest first: from memory when the window covers them, otherwise from the log
   * (GoneError when compacted). Waits for new entries until `untilMs` (epoch ms) or the signal; [] then.
   */
  async after(after: number, signal: AbortSignal, untilMs: number): Promise<LogEntry[]> {
    for (;;) {
      const first = this.window[0];
      if (this.position === undefined || !first || first.rev > after + 1) {
        if (this.position === undefined || after < this.position) {
          const fromLog = await this.log.readLog(after, this.batch);
          if (fromLog.length > 0) return fromLog;
        }
      } else {
        const i = this.window.findIndex((e) => e.rev > after);
        if (i >= 0) return this.window.slice(i);
      }
      if (signal.aborted || Date.now() >= untilMs || this.closed) return [];
      await this.nextProgress(signal, false, untilMs);
    }
  }

  /**
   * A write of this process committed: poll now rather than at the next interval (kine notifies its poller the
   * same way after an append). Writes of other processes are found by the regular polls.
   */
  nudge(): void {
    if (!this.running) return;
    this.wakeRequested = true;
    this.wakeLoop?.();
  }

  /** Stops the loop (tests, process shutdown). */
  close(): void {
    this.closed = true;
    this.wakeLoop?.();
    for (const p of this.progress) p();
  }

  private nextProgress(signal: AbortSignal | undefined, urgent: boolean, untilMs?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        this.progress.delete(done);
        this.waiters--;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.progress.add(done);
      this.waiters++;
      signal?.addEventListener('abort', done, { once: true });
      if (untilMs !== undefined) timer = setTimeout(done, Math.max(0, untilMs - Date.now()));
      this.ensureLoop();
      if (urgent) {
        this.wakeRequested = true;
        this.wakeLoop?.();
      }
    });
  }

  private ensureLoop(): void {
    if (this.running || this.closed) return;
    this.running = true;
    void this.run();
  }

  private demand(): boolean {
    return !this.closed && (this.waiters > 0 || this.listeners.size > 0);
  }

  private async run(): Promise<void> {
    try {
      while (this.demand()) {
        let more = false;
        try {
          more = await this.pollOnce();
        } catch (err) {
          if (err instanceof GoneError) this.lostPlace();
          // Other read errors (throttling, a network blip): the next poll retries; waiters keep waiting.
        }
        for (const p of [...this.progress]) p();
        if (!more && this.demand()) await this.sleep();
      }
    } finally {
      this.running = false;
    }
  }

  /** One read of the log; true when a full batch came back (more may be waiting). */
  private async pollOnce(): Promise<boolean> {
    this.wakeRequested = false;
    if (this.position === undefined) {
      this.position = await this.log.currentRevision();
      return true;
    }
    // The counter first (at the head, the usual case, the log is not read at all), then the new entries by key:
    // on DynamoDB that costs what a log Query costs; on moto, whose Query walks the whole log partition, it is
    // what keeps the poll cheap as the log grows.
    const head = await this.log.currentRevision();
    if (head <= this.position) return false;
    const entries = await this.log.readLogTo(this.position, head, this.batch);
    for (const e of entries) {
      this.window.push(e);
      for (const l of this.listeners) l.apply(e);
    }
    if (entries.length > 0) this.position = entries[entries.length - 1]!.rev;
    if (this.window.length > this.windowSize) this.window = this.window.slice(-this.windowSize);
    return entries.length > 0 && this.position < head;
  }

  /** Compaction overtook this tailer (a frozen Lambda): restart at the head; listeners rebuild themselves. */
  private lostPlace(): void {
    this.position = undefined;
    this.window = [];
    for (const l of this.listeners) l.reset();
  }

  private sleep(): Promise<void> {
    if (this.wakeRequested) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wakeLoop = undefined;
        resolve();
      }, this.pollMs);
      this.wakeLoop = () => {
        clearTimeout(t);
        this.wakeLoop = undefined;
        resolve();
      };
    });
  }
}
