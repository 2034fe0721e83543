/** What svcctl's commands write to and read from: the process streams, or a test's buffers. */
export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stdin?: () => string;
}

/** A command-line mistake: kubectl's `error: ...` plus the help hint, exit code 2... */
export class UsageError extends Error {}

export const progressTo =
  (io: Io) =>
  (m: string): void =>
    io.stderr(`… ${m}\n`);
