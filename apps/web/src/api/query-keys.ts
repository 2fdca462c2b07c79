/** Query keys, built in one place so invalidation and cache updates agree with the queries. */
export const queryKeys = {
  me: () => ['me'] as const,
  setupStatus: () => ['setup-status'] as const,
  tokens: () => ['tokens'] as const,
  adminUsers: () => ['admin', 'users'] as const,
  adminWorkspaces: () => ['admin', 'workspaces'] as const,
  adminUsage: (days: number) => ['admin', 'usage', days] as const,
  adminBackups: () => ['admin', 'backups'] as const,
  adminWarmPools: () => ['admin', 'warm-pools'] as const,
  adminImages: () => ['admin', 'images'] as const,
  myQuota: () => ['quota'] as const,
  invite: (token: string) => ['invite', token] as const,
  runtime: () => ['runtime'] as const,
  templates: () => ['templates'] as const,
  workspaces: () => ['workspaces'] as const,
  teams: () => ['teams'] as const,
  workspaceMembers: (workspace: string) => ['workspace-members', workspace] as const,
  workspaceTeams: (workspace: string) => ['workspace-teams', workspace] as const,
  // Its own root, so refetching the workspace list never touches a progress log.
  workspaceProgress: (name: string) => ['workspace-progress', name] as const,
  aiProviders: () => ['ai', 'providers'] as const,
  aiModels: (providerId: string) => ['ai', 'models', providerId] as const,
  aiSettings: () => ['ai', 'settings'] as const,
  aiPolicy: () => ['ai', 'policy'] as const,
  mcpServers: () => ['ai', 'mcp-servers'] as const,
  // Not under `mcpServers()`: refreshing the list must not start every server again.
  mcpToolsOf: (serverId: string) => ['ai', 'mcp-tools', serverId] as const,
  mcpTools: (serverId: string, workspace: string) =>
    ['ai', 'mcp-tools', serverId, workspace] as const,
  // Filters are part of the key: each filter set pages on its own.
  audit: (filters: Record<string, string>) => ['audit', filters] as const,
};

/** Keys that hold no user data and survive a sign-out. */
export const PUBLIC_QUERY_ROOTS: readonly string[] = ['setup-status', 'invite'];
