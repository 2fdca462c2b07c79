import { useEffect, useRef, useState } from 'react';
import { Palette } from '../palette/Palette.tsx';

/** Something the person can do from the palette, with the keys that do it directly. */
export interface Command {
  label: string;
  shortcut?: string;
  run: () => void;
}

/** Ctrl/Cmd+Shift+P, as in VS Code. Capture phase: ahead of Monaco and xterm. */
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
  // The latest list-maker, so the key listener is added once.
  const commandsRef = useRef(commands);
  useEffect(() => {
    commandsRef.current = commands;
  });
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (!isPaletteShortcut(event)) return;
      event.preventDefault();
      event.stopPropagation();
      setShown(commandsRef.current());
    };
    window.addEventListener('keydown', onKeyDown, true);
    return () => window.removeEventListener('keydown', onKeyDown, true);
  }, []);
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
