/**
 * Error output exactly as kubectl prints it (k8s.io/kubectl/pkg/cmd/util/helpers.go: CheckErr, StandardErrorMessage,
 * MultilineError, MultipleErrors, AddSourceToErr), so a script that reads kubectl's stderr reads svcctl's too:
 * - one 422 Invalid: `The Service "x" is invalid: <field>: <message>` (several causes: one `* ` line each);
 * - any other Status: `Error from server (<Reason>): <message>`; 401: `error: You must be logged in to the server`;
 * - several errors at once (apply/delete of many objects): one StandardErrorMessage line each;
 * - anything else: `error: <message>`.
 */
import { ConnectionError, StatusError } from './client.js';

/**
 * AddSourceToErr: the object's file goes into the server's Status message (`error when creating "f.yaml": ...`).
 * Anything that is not the server's answer (no connection, a bug) is rethrown: it is not about this object.
 */
export function withSource(verb: string, source: string | undefined, err: unknown): StatusError {
  if (!(err instanceof StatusError)) throw err;
  if (!source) return err;
  return new StatusError({ ...err.status, message: `error when ${verb} "${source}": ${err.status.message ?? ''}` });
}

/** StandardErrorMessage: undefined when kubectl would fall back to `error: ...`. */
function standardMessage(err: unknown): string | undefined {
  if (err instanceof ConnectionError) return err.message;
  if (!(err instanceof StatusError)) return undefined;
  if (err.reason === 'Unauthorized') return `error: You must be logged in to the server (${err.message})`;
  return err.reason ? `Error from server (${err.reason}): ${err.message}` : `Error from server: ${err.message}`;
}

function plain(err: unknown): string {
  const msg = (err as Error)?.message ?? String(err);
  return msg.startsWith('error: ') || msg.startsWith('error:\n') ? msg : `error: ${msg}`;
}

/** statusCausesToAggrError: `field: message`, duplicates dropped. */
function causeLines(err: StatusError): string[] {
  const seen = new Set<string>();
  for (const c of err.status.details?.causes ?? []) seen.add(`${c.field ?? ''}: ${c.message ?? ''}`);
  return [...seen];
}

function invalidMessage(err: StatusError): string {
  const d = err.status.details;
  const prefix =
    d && (d.kind || d.name) ? `The ${d.kind ?? ''} "${d.name ?? ''}" is invalid` : 'The request is invalid';
  const causes = causeLines(err);
  if (causes.length === 0) return `${prefix}\n`;
  if (causes.length === 1) return `${prefix}: ${causes[0]}\n`;
  return `${prefix}: \n${causes.map((c) => `* ${c}`).join('\n')}\n`;
}

const line = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);

/** What kubectl writes to stderr for `errs` (one error: CheckErr; several: one line each). */
export function formatErrors(errs: readonly unknown[]): string {
  if (errs.length === 1) {
    const err = errs[0];
    if (err instanceof StatusError && err.code === 422 && err.reason === 'Invalid') return invalidMessage(err);
    return line(standardMessage(err) ?? plain(err));
  }
  return errs.map((e) => line(standardMessage(e) ?? (e as Error)?.message ?? String(e))).join('');
}
