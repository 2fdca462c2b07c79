import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { fileQueryKeys, watchFiles } from '../../api/files.ts';
import { parentOf } from './file-tree/paths.ts';

/**
 * Keep the tree and open files in step with the disk: each change refreshes the folder that
 * holds it and, for a changed file, its content (the editor only takes it without unsaved edits).
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
      }),
    [queryClient, workspace],
  );
}
