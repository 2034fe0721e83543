/**
 * The settings every SDK client of this project shares (lib/aws/clients.ts builds them): the region from the
 * standard configuration, the adaptive retry mode, and extra middleware (tests count calls and inject crashes).
 * No SDK import here, so a module that needs one client (lib/aws/dynamodb-client.ts) loads only that client.
 */
/** A middleware as the SDK's middlewareStack.add takes it, applied to every client built by makeClients. */
export interface ClientMiddleware {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  middleware: (next: any, context: any) => any;
  name: string;
}

export interface ClientOptions {
  region?: string;
  maxAttempts?: number;
  middleware?: ClientMiddleware[];
}

export function config(opts: ClientOptions) {
  return {
    region: opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    retryMode: 'adaptive' as const,
    maxAttempts: opts.maxAttempts ?? 8,
  };
}

export function withMiddleware<C extends { middlewareStack: { add: (...a: never[]) => void } }>(
  client: C,
  mws: ClientMiddleware[] | undefined,
): C {
  for (const mw of mws ?? []) {
    // 'initialize' runs once per operation call (before retries), which is what call counting and crash
    // injection want: one AWS API call = one count.
    (client.middlewareStack.add as (m: unknown, o: unknown) => void)(mw.middleware, {
      step: 'initialize',
      name: mw.name,
    });
  }
  return client;
}
