import { useQueryClient } from '@tanstack/react-query';
import { useMemo } from 'react';
import {
  deleteFile,
  fileQueryKeys,
  makeDirectory,
  moveFile,
  uploadFile,
  writeFile,
} from '../../../api/files.ts';
import { useToast } from '../../../components/Toaster.tsx';
import { baseName, joinPath, parentOf } from './paths.ts';

/**
 * What the tree can do to files. Each refreshes the folders it touched at once, without waiting
 * for the watch socket; failures that the person did not ask about become toasts.
 */
export function useFileActions(workspace: string) {
  const queryClient = useQueryClient();
  const toast = useToast();

  return useMemo(() => {
    const refresh = (...dirs: string[]) => {
      for (const dir of new Set(dirs)) {
        void queryClient.invalidateQueries({ queryKey: fileQueryKeys.directory(workspace, dir) });
      }
      void queryClient.invalidateQueries({ queryKey: fileQueryKeys.allPaths(workspace) });
    };
    return {
      /** A new empty file; refused if the name is taken. */
      createFile: async (path: string) => {
        await writeFile(workspace, { path, content: '', expectedVersion: null });
        refresh(parentOf(path));
      },
      createFolder: async (path: string) => {
        await makeDirectory(workspace, path);
        refresh(parentOf(path));
      },
      rename: async (from: string, to: string) => {
        await moveFile(workspace, from, to);
        refresh(parentOf(from), parentOf(to));
      },
      remove: async (path: string) => {
        await deleteFile(workspace, path);
        queryClient.removeQueries({ queryKey: fileQueryKeys.content(workspace, path) });
        refresh(parentOf(path));
      },
      /** Drop onto a folder: move an entry of the tree, or upload files from the desktop. */
      drop: async (dir: string, from: string | null, files: File[]) => {
        try {
          if (from !== null) {
            if (from === dir || parentOf(from) === dir || dir.startsWith(`${from}/`)) return;
            await moveFile(workspace, from, joinPath(dir, baseName(from)));
            refresh(parentOf(from), dir);
            return;
          }
          for (const file of files) await uploadFile(workspace, joinPath(dir, file.name), file);
          refresh(dir);
          if (files.length > 0) {
            toast(
              files.length === 1
                ? `Uploaded ${files[0]!.name}.`
                : `Uploaded ${files.length} files.`,
            );
          }
        } catch (error) {
          toast((error as Error).message, 'error');
        }
      },
    };
  }, [queryClient, toast, workspace]);
}

/** What `useFileActions` returns. */
export type FileActions = ReturnType<typeof useFileActions>;
