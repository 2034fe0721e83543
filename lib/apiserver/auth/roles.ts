/**
 * Role-based authorization with three roles, mapped from callers (IAM ARNs, canonicalised, or local user names):
 * - admin: every verb on every resource;
 * - view: get, list, watch on every resource;
 * - writer ("object writer", for producers such as a CI system or an external scheduler): what view may do, plus
 *   create/update/patch/delete of Pods (and pods/status) and Endpoints — the objects a producer owns; Services stay
 *   with admins.
 * Discovery and OpenAPI are open to every authenticated user, as system:discovery grants upstream. Refusals use
 * the RBAC authorizer's wording.
 */
import { stripRolePath } from './arn.js';
import type { Authorizer, ResourceAttributes, UserInfo } from './types.js';

export type Role = 'admin' | 'view' | 'writer';

const READ = new Set(['get', 'list', 'watch']);
const WRITE = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
/** group/resource[/subresource] a writer may change. */
const WRITER_RESOURCES = new Set(['/pods', '/pods/status', '/endpoints']);

export function roleAllows(role: Role, a: ResourceAttributes): boolean {
  if (role === 'admin') return true;
  if (READ.has(a.verb)) return true;
  if (role !== 'writer' || !WRITE.has(a.verb)) return false;
  return WRITER_RESOURCES.has(`${a.group}/${a.resource}${a.subresource ? `/${a.subresource}` : ''}`);
}

export function forbiddenMessage(user: UserInfo, a: ResourceAttributes): string {
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  const subject = a.name ? `${resource} "${a.name}"` : resource;
  return `${subject} is forbidden: User "${user.username}" cannot ${a.verb} resource "${resource}" in API group "${a.group}" ${scope}`;
}

export class RoleAuthorizer implements Authorizer {
  /** `roleOf` returns the caller's role, or undefined for callers with none (everything is refused). */
  constructor(private readonly roleOf: (user: UserInfo) => Role | undefined) {}

  authorize(user: UserInfo, a: ResourceAttributes): string | undefined {
    const role = this.roleOf(user);
    if (role && roleAllows(role, a)) return undefined;
    return forbiddenMessage(user, a);
  }
}

/** A role table keyed by user name (canonical ARN for IAM callers); group `system:masters` is admin, as upstream. */
export function roleTable(roles: ReadonlyMap<string, Role>): (user: UserInfo) => Role | undefined {
  return (user) => roles.get(user.username) ?? (user.groups.includes('system:masters') ? 'admin' : undefined);
}

/** A role table for IAM callers from (ARN, role) pairs; role paths are ignored, as assumed-role ARNs lack them. */
export function iamRoleTable(entries: readonly { arn: string; role: Role }[]): (user: UserInfo) => Role | undefined {
  const table = new Map(entries.map((e) => [stripRolePath(e.arn), e.role]));
  return (user) => table.get(stripRolePath(user.username));
}
