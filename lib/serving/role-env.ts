/** The environment variables carrying the API's role mapping (set by the CDK construct, read by the API function). */
import type { Role } from '../apiserver/auth/roles.js';

export const ROLE_ENV: Record<Role, string> = {
  admin: 'API_ADMIN_ARNS',
  view: 'API_VIEW_ARNS',
  writer: 'API_WRITER_ARNS',
};
