/**
 * One error hierarchy for the whole controller (the Powertools pattern: a single base class, a small number of
 * meaningful subclasses, and exactly one place — the handler middleware — that maps them to Lambda behaviour).
 *
 * - PermanentError: retrying cannot help (bad input, a resource AWS refuses for good). Handlers record it in the
 *   object's status and acknowledge the message so it is not redelivered.
 * - TransientError: the same input may succeed later (optimistic-concurrency conflict, throttling, an AWS
 *   resource still settling). Handlers let the message be retried; `retryAfterSeconds` is a hint for requeues.
 */
export abstract class ControllerError extends Error {
  abstract readonly permanent: boolean;
  /** Short machine-readable reason, like a Kubernetes Status reason or an AWS error code. */
  readonly reason: string;
  constructor(message: string, reason: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.reason = reason;
  }
}

export class PermanentError extends ControllerError {
  readonly permanent = true;
}

export class TransientError extends ControllerError {
  readonly permanent = false;
  readonly retryAfterSeconds: number;
  constructor(message: string, reason: string, retryAfterSeconds = 5, options?: { cause?: unknown }) {
    super(message, reason, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The object failed validation; `message` is the full API-server-style text (see lib/model/field-errors.ts). */
export class InvalidError extends PermanentError {
  readonly causes: readonly { field: string; message: string }[];
  constructor(message: string, causes: readonly { field: string; message: string }[] = [], reason = 'Invalid') {
    super(message, reason);
    this.causes = causes;
  }
}

/**
 * The input could not be decoded into the kind at all (not an object, kind/apiVersion not strings, an unknown kind,
 * unknown fields under fieldValidation=Strict): the apiserver answers these with 400 BadRequest, not 422 Invalid.
 * Still an InvalidError, so every caller that refuses bad input refuses this too.
 */
export class DecodeError extends InvalidError {
  constructor(message: string, causes: readonly { field: string; message: string }[] = []) {
    super(message, causes, 'BadRequest');
  }
}

export class NotFoundError extends PermanentError {
  constructor(kind: string, name: string, resource = kind.toLowerCase() + 's') {
    // kubectl: Error from server (NotFound): services "foo" not found
    super(`${resource} "${name}" not found`, 'NotFound');
  }
}

export class AlreadyExistsError extends PermanentError {
  constructor(resource: string, name: string) {
    super(`${resource} "${name}" already exists`, 'AlreadyExists');
  }
}

/** Optimistic-concurrency conflict: someone else wrote first. Re-read and try again. */
export class ConflictError extends TransientError {
  constructor(message: string) {
    super(message, 'Conflict', 0);
  }
}

/** "Not yet": an AWS resource is still provisioning, a dependency is still being deleted, a quota may free up. */
export class RequeueError extends TransientError {
  constructor(message: string, retryAfterSeconds = 10, options?: { cause?: unknown }) {
    super(message, 'Requeue', retryAfterSeconds, options);
  }
}

export function isPermanent(err: unknown): boolean {
  return err instanceof ControllerError && err.permanent;
}

/**
 * The requested resourceVersion is older than the change log keeps (HTTP 410, reason Expired): clients relist.
 * Message as the apiserver words it: `too old resource version: 5 (120)`.
 */
export class GoneError extends PermanentError {
  constructor(message: string) {
    super(message, 'Expired');
  }
}

/** The caller may not do this (HTTP 403): RBAC-style role mapping, writes to system-owned objects. */
export class ForbiddenError extends PermanentError {
  constructor(message: string) {
    super(message, 'Forbidden');
  }
}

/** No or unusable credentials (HTTP 401). */
export class UnauthorizedError extends PermanentError {
  constructor(message = 'Unauthorized') {
    super(message, 'Unauthorized');
  }
}

/** A malformed request the apiserver answers with 400 BadRequest (unparseable body, bad query parameter). */
export class BadRequestError extends PermanentError {
  constructor(message: string) {
    super(message, 'BadRequest');
  }
}

/** A verb or subresource this server does not serve for the resource (HTTP 405, reason MethodNotAllowed). */
export class MethodNotSupportedError extends PermanentError {
  constructor(message: string) {
    super(message, 'MethodNotAllowed');
  }
}

/** A content type this server does not accept, e.g. server-side apply documents (HTTP 415). */
export class UnsupportedMediaTypeError extends PermanentError {
  constructor(message: string) {
    super(message, 'UnsupportedMediaType');
  }
}
