import { createContext, useContext } from 'react';

/** What a code block in a reply can do with the editor; `null` members when no file is open. */
export interface EditorActions {
  /** The open file, or `null`. */
  path: string | null;
  insert: (code: string) => void;
  /** Show the open file against `code`, to accept or reject. */
  propose: (code: string) => void;
}

/**
 * Provided by the assistant panel to the code blocks of its messages; `null` where there is no
 * editor (Mission control), so code blocks offer only Copy.
 */
export const EditorActionsContext = createContext<EditorActions | null>({
  path: null,
  insert: () => {},
  propose: () => {},
});

/** The editor actions of the surrounding assistant panel, or `null` without an editor. */
export function useEditorActions(): EditorActions | null {
  return useContext(EditorActionsContext);
}
