import { useState } from 'react';
import { Palette, useCapturedKey } from '../palette/Palette.tsx';

/** Something the person can do from the palette, with the keys that do it directly. */
export interface Command {
  label: string;
  shortcut?: string;
  run: () => void;
}

/** Ctrl/Cmd+Shift+P, as in VS Code. */
function isPaletteShortcut(event: KeyboardEvent): boolean {
  return (
    (event.ctrlKey || event.metaKey) && event.shiftKey && !event.altKey && event.code === 'KeyP'
  );
}

/**
 * The command palette: every command of the IDE and of the editor, found by a fuzzy name, each
 * with its shortcut. `commands` is asked when the palette opens, so it lists what applies now.
 */
export function CommandPalette({ commands }: { commands: () => Command[] }) {
  const [shown, setShown] = useState<Command[] | null>(null);
  useCapturedKey(isPaletteShortcut, () => setShown(commands()));
  if (!shown) return null;
  const byLabel = new Map(shown.map((command) => [command.label, command]));
  return (
    <Palette
      label="Command palette"
      placeholder="Type a command"
      items={[...byLabel.keys()]}
      pendingLabel="Listing commands…"
      emptyLabel="No command matches."
      icon={() => <span className="text-muted">›</span>}
      detail={(label) => byLabel.get(label)?.shortcut}
      onChoose={(label) => byLabel.get(label)?.run()}
      onClose={() => setShown(null)}
    />
  );
}
