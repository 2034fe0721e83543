/** Polls `check` until it returns a truthy value (bounded: fails after `maxMs`, which is a hang guard, not a timing assertion). */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, maxMs = 20_000): Promise<NonNullable<T>> {
  const end = Date.now() + maxMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
