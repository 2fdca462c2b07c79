import * as schema from './schema.ts';

export {
  openDatabase,
  type Database,
  type DatabaseConfig,
  type DatabaseBus,
  type DatabaseHandle,
} from './database.ts';
export { DataDirLockedError } from './dir-lock.ts';
export {
  accounts,
  aiRunEvents,
  aiRunMessages,
  aiRunInputs,
  aiRuns,
  apiTokens,
  auditEvents,
  invites,
  jobs,
  previewLinks,
  quotas,
  rateLimits,
  sessions,
  teamMembers,
  teams,
  templates,
  usageSamples,
  users,
  verifications,
  workspaceMembers,
  workspacePresence,
  workspaceTeams,
  workspaces,
  warmWorkspaces,
  WORKSPACE_MEMBER_ROLES,
} from './schema.ts';
export { schema };
export { createTestDatabase, type TestDatabase } from './testing.ts';
