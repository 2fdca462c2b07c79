import { useEffect, useRef } from 'react';

/** One action in the tree's context menu. */
export interface TreeMenuItem {
  label: string;
  onSelect: () => void;
  danger?: boolean;
}

/** A context menu at the pointer; Escape, a click elsewhere or a choice closes it. */
export function TreeMenu({
  x,
  y,
  items,
  onClose,
}: {
  x: number;
  y: number;
  items: TreeMenuItem[];
  onClose: () => void;
}) {
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    ref.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    const onPointer = (event: PointerEvent) => {
      if (!ref.current?.contains(event.target as Node)) onClose();
    };
    window.addEventListener('pointerdown', onPointer);
    return () => window.removeEventListener('pointerdown', onPointer);
  }, [onClose]);

  return (
    <div
      ref={ref}
      role="menu"
      style={{ left: x, top: y }}
      className="fixed z-40 min-w-44 rounded-md border border-line bg-surface py-1 text-[13px] shadow-lg"
      onKeyDown={(event) => {
        const buttons = [
          ...(ref.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? []),
        ];
        const index = buttons.indexOf(document.activeElement as HTMLElement);
        if (event.key === 'Escape') onClose();
        else if (event.key === 'ArrowDown') buttons[(index + 1) % buttons.length]?.focus();
        else if (event.key === 'ArrowUp') buttons.at(index - 1)?.focus();
        else return;
        event.preventDefault();
      }}
    >
      {items.map((item) => (
        <button
          key={item.label}
          type="button"
          role="menuitem"
          onClick={() => {
            onClose();
            item.onSelect();
          }}
          className={`block w-full px-3 py-1.5 text-left hover:bg-subtle focus:bg-subtle focus:outline-none ${
            item.danger ? 'text-danger' : 'text-fg'
          }`}
        >
          {item.label}
        </button>
      ))}
    </div>
  );
}
