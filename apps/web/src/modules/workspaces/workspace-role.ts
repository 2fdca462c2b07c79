import type { WorkspaceRole } from '@studio/protocol';
import { createContext, useContext } from 'react';

/** The signed-in person's role on the workspace the IDE shows (the owner's by default). */
export const WorkspaceRoleContext = createContext<WorkspaceRole>('owner');

/** The signed-in person's role on the workspace the IDE shows. */
export function useWorkspaceRole(): WorkspaceRole {
  return useContext(WorkspaceRoleContext);
}
