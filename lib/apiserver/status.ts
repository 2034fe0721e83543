/**
 * Errors as metav1.Status, the way kube-apiserver writes them (k8s.io/apimachinery/pkg/api/errors): HTTP code,
 * `reason`, the message kubectl prints after "Error from server (<reason>):", and `details` (name, group, kind and,
 * for Invalid, one cause per field error). kubectl builds `The Service "x" is invalid: <field>: <message>` from
 * details.kind, details.name and the causes, so a cause's message must not repeat its field.
 */
import { ControllerError, InvalidError, TransientError } from '../errors.js';
import { jsonResponse, type BufferedResponse } from './http/types.js';

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** Reason -> HTTP code, as StatusReason documents them. */
const CODES: Record<string, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
};

/** What the request was about, for `details` (NotFound and Conflict name the resource, Invalid the kind). */
export interface ErrorSubject {
  group?: string;
  resource?: string;
  kind?: string;
  name?: string;
}

export function failure(reason: string, message: string, details?: StatusDetails, code?: number): Status {
  const s: Status = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code: code ?? CODES[reason] ?? 500,
  };
  if (details && Object.keys(details).length > 0) s.details = details;
  return s;
}

/** field.ErrorType -> metav1.CauseType, recognised from the error text's "<field>: <Type text>" shape. */
const CAUSE_TYPES: [RegExp, string][] = [
  [/^Required value/, 'FieldValueRequired'],
  [/^Invalid value/, 'FieldValueInvalid'],
  [/^Unsupported value/, 'FieldValueNotSupported'],
  [/^Duplicate value/, 'FieldValueDuplicate'],
  [/^Forbidden/, 'FieldValueForbidden'],
  [/^Too long/, 'FieldValueTooLong'],
  [/^Too many/, 'FieldValueTooMany'],
];

function causeOf(c: { field: string; message: string }): StatusCause {
  const prefix = `${c.field}: `;
  const message = c.field && c.message.startsWith(prefix) ? c.message.slice(prefix.length) : c.message;
  const reason = CAUSE_TYPES.find(([re]) => re.test(message))?.[1] ?? 'FieldValueInvalid';
  return c.field ? { reason, message, field: c.field } : { reason, message };
}

function detailsFor(err: ControllerError, subject: ErrorSubject): StatusDetails {
  const d: StatusDetails = {};
  if (subject.name) d.name = subject.name;
  if (subject.group) d.group = subject.group;
  if (err instanceof InvalidError) {
    if (subject.kind) d.kind = subject.kind;
    if (err.causes.length > 0) d.causes = err.causes.map(causeOf);
  } else if (subject.resource) {
    d.kind = subject.resource;
  }
  return d;
}

/** Any thrown value as a Status; unknown errors become a 500 that does not leak internals beyond the message. */
export function statusFromError(err: unknown, subject: ErrorSubject = {}): Status {
  if (err instanceof ControllerError) {
    const details = detailsFor(err, subject);
    if (err instanceof TransientError && err.reason !== 'Conflict') {
      // Throttling, a lost transaction, a dependency still settling: the client may retry (client-go honours
      // Retry-After on 429/503 and retries automatically).
      details.retryAfterSeconds = Math.max(1, err.retryAfterSeconds);
      return failure('ServiceUnavailable', err.message, details, 503);
    }
    const reason = err.reason in CODES ? err.reason : 'InternalError';
    return failure(reason, err.message, details);
  }
  const message = err instanceof Error ? err.message : String(err);
  return failure('InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }, 500);
}

export function statusResponse(s: Status): BufferedResponse {
  const headers: Record<string, string> = {};
  if (s.details?.retryAfterSeconds) headers['retry-after'] = String(s.details.retryAfterSeconds);
  return jsonResponse(s.code, s, headers);
}

export const errorResponse = (err: unknown, subject?: ErrorSubject): BufferedResponse =>
  statusResponse(statusFromError(err, subject));

export const notFoundPath = (): BufferedResponse =>
  statusResponse(failure('NotFound', 'the server could not find the requested resource', {}, 404));
