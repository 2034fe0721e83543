/**
 * moto's threaded server does not execute DynamoDB requests atomically: TransactWriteItems deep-copies the table for
 * rollback while other request threads mutate it ("dictionary changed size during iteration", a 500 with an HTML
 * body), and a cancelled transaction restores that copy over writes other threads made meanwhile. Real DynamoDB
 * executes every request atomically and serializably. This middleware restores that property against moto (tests and
 * the local mode; never needed against AWS) by letting one request of a client be in flight at a time; the application-level races (read, plan, conditional write,
 * retry) still interleave freely between requests, which is what the concurrency tests are about.
 */
import type { ClientMiddleware } from './clients.js';

export function serializingMiddleware(): ClientMiddleware {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    name: 'serializeRequestsForMoto',
    middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => {
      const run = tail.then(
        () => next(args),
        () => next(args),
      );
      tail = run.catch(() => undefined);
      return run;
    },
  };
}

/** Lets one request of this client be in flight at a time (the local AWS's DynamoDB needs it; see above). */
export function serializeRequests(client: { middlewareStack: { add: (...a: never[]) => void } }): void {
  const mw = serializingMiddleware();
  (client.middlewareStack.add as (m: unknown, o: unknown) => void)(mw.middleware, {
    step: 'initialize',
    name: mw.name,
  });
}
