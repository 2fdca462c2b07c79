import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { fileQueryKeys, watchFiles } from '../../api/files.ts';
import { gitQueryKeys } from '../../api/git.ts';
import { parentOf } from './file-tree/paths.ts';

/**
 * Keep the tree, open files and Source Control in step with the disk: each change refreshes the
 * folder that holds it and, for a changed file, its content (the editor only takes it without
 * unsaved edits); any change (a file, or `.git` after a commit or `git init` in a terminal)
 * refreshes the git status shown.
 */
export function useFileWatch(workspace: string): void {
  const queryClient = useQueryClient();
  useEffect(
    () =>
      watchFiles(workspace, (changes) => {
        const dirs = new Set(changes.map((change) => parentOf(change.path)));
        for (const dir of dirs) {
          void queryClient.invalidateQueries({ queryKey: fileQueryKeys.directory(workspace, dir) });
        }
        for (const change of changes) {
          if (change.kind === 'changed') {
            void queryClient.invalidateQueries({
              queryKey: fileQueryKeys.content(workspace, change.path),
            });
          }
        }
        if (changes.some((change) => change.kind !== 'changed')) {
          void queryClient.invalidateQueries({ queryKey: fileQueryKeys.allPaths(workspace) });
        }
        void queryClient.invalidateQueries({ queryKey: gitQueryKeys.all(workspace) });
      }),
    [queryClient, workspace],
  );
}
