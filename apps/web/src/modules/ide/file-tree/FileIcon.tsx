import type { SVGProps } from 'react';

// Colour by what a file is, so a tree of mixed files is easy to scan; unknown kinds stay grey.
const COLORS: Record<string, string> = {
  ts: 'text-sky-600 dark:text-sky-400',
  tsx: 'text-sky-600 dark:text-sky-400',
  js: 'text-yellow-600 dark:text-yellow-400',
  jsx: 'text-yellow-600 dark:text-yellow-400',
  mjs: 'text-yellow-600 dark:text-yellow-400',
  py: 'text-blue-600 dark:text-blue-400',
  go: 'text-cyan-600 dark:text-cyan-400',
  rs: 'text-orange-700 dark:text-orange-400',
  json: 'text-amber-600 dark:text-amber-400',
  md: 'text-violet-600 dark:text-violet-400',
  html: 'text-orange-600 dark:text-orange-400',
  css: 'text-indigo-600 dark:text-indigo-400',
  sh: 'text-emerald-600 dark:text-emerald-400',
  yml: 'text-rose-600 dark:text-rose-400',
  yaml: 'text-rose-600 dark:text-rose-400',
  png: 'text-pink-600 dark:text-pink-400',
  jpg: 'text-pink-600 dark:text-pink-400',
  svg: 'text-pink-600 dark:text-pink-400',
};

function colorOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return (dot > 0 && COLORS[name.slice(dot + 1).toLowerCase()]) || 'text-muted';
}

const SVG: SVGProps<SVGSVGElement> = {
  viewBox: '0 0 24 24',
  fill: 'none',
  stroke: 'currentColor',
  strokeWidth: 1.75,
  strokeLinecap: 'round',
  strokeLinejoin: 'round',
  'aria-hidden': true,
};

/** A sheet, coloured by the file's extension. */
export function FileIcon({ name }: { name: string }) {
  return (
    <svg {...SVG} className={`size-4 shrink-0 ${colorOf(name)}`}>
      <path d="M14 3H6.5A1.5 1.5 0 0 0 5 4.5v15A1.5 1.5 0 0 0 6.5 21h11a1.5 1.5 0 0 0 1.5-1.5V8z" />
      <path d="M14 3v5h5" />
    </svg>
  );
}

/** A folder, open or closed. */
export function FolderIcon({ open }: { open: boolean }) {
  return (
    <svg {...SVG} className="size-4 shrink-0 text-accent">
      {open ? (
        <path d="M3 7.5A1.5 1.5 0 0 1 4.5 6H9l2 2h6.5A1.5 1.5 0 0 1 19 9.5V11H7.2a1.5 1.5 0 0 0-1.4 1L3.5 18.5M3 7.5v11h14.3a1.5 1.5 0 0 0 1.4-1l2.3-6.5" />
      ) : (
        <path d="M3 7.5A1.5 1.5 0 0 1 4.5 6H9l2 2h8.5A1.5 1.5 0 0 1 21 9.5v8a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 17.5z" />
      )}
    </svg>
  );
}

/** A chevron that points right when closed and down when open. */
export function TwistyIcon({ open }: { open: boolean }) {
  return (
    <svg
      {...SVG}
      className={`size-3.5 shrink-0 text-muted transition-transform ${open ? 'rotate-90' : ''}`}
    >
      <path d="m9 6 6 6-6 6" />
    </svg>
  );
}
