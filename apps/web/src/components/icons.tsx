import type { SVGProps } from 'react';

type IconProps = SVGProps<SVGSVGElement>;

function Icon({ children, ...props }: IconProps) {
  return (
    <svg
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.75}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
      width="1em"
      height="1em"
      {...props}
    >
      {children}
    </svg>
  );
}

/** The product mark: a flame in a rounded square. */
export function LogoMark(props: IconProps) {
  return (
    <svg viewBox="0 0 32 32" aria-hidden="true" focusable="false" {...props}>
      <rect width="32" height="32" rx="7" className="fill-accent" />
      <path
        d="M16.4 5c.6 3.6-1.4 5.6-3.3 7.7-1.7 1.9-3.1 3.8-3.1 6.6C10 23.5 12.7 27 16.3 27c3.7 0 6.3-3 6.3-6.8 0-2.7-1.3-4.6-2.6-6.1-.2 1.6-.9 2.8-2.1 3.4.5-3.7-.1-8.5-1.5-12.5z"
        className="fill-accent-fg"
      />
    </svg>
  );
}

/** Sun (light theme). */
export function SunIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <circle cx="12" cy="12" r="4" />
      <path d="M12 2v2M12 20v2M4.93 4.93l1.41 1.41M17.66 17.66l1.41 1.41M2 12h2M20 12h2M4.93 19.07l1.41-1.41M17.66 6.34l1.41-1.41" />
    </Icon>
  );
}

/** Moon (dark theme). */
export function MoonIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <path d="M20.5 14.1A8.5 8.5 0 1 1 9.9 3.5a7 7 0 0 0 10.6 10.6z" />
    </Icon>
  );
}

/** Monitor (follow the system). */
export function MonitorIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <rect x="3" y="4" width="18" height="12" rx="2" />
      <path d="M8 20h8M12 16v4" />
    </Icon>
  );
}

/** Two overlapping sheets (copy). */
export function CopyIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <rect x="9" y="9" width="12" height="12" rx="2" />
      <path d="M5 15H4a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1h10a1 1 0 0 1 1 1v1" />
    </Icon>
  );
}

/** Check mark. */
export function CheckIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <path d="M20 6 9 17l-5-5" />
    </Icon>
  );
}

/** Downward chevron. */
export function ChevronDownIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <path d="m6 9 6 6 6-6" />
    </Icon>
  );
}

/** Exclamation in a circle (errors). */
export function AlertIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <circle cx="12" cy="12" r="9" />
      <path d="M12 8v4M12 16h.01" />
    </Icon>
  );
}

/** "i" in a circle (information). */
export function InfoIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <circle cx="12" cy="12" r="9" />
      <path d="M12 16v-4M12 8h.01" />
    </Icon>
  );
}

/** Stacked boxes (workspaces). */
export function BoxesIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <path d="M12 3 3.5 7.5 12 12l8.5-4.5L12 3z" />
      <path d="M3.5 12 12 16.5l8.5-4.5" />
      <path d="M3.5 16.5 12 21l8.5-4.5" />
    </Icon>
  );
}

/** A key (API tokens). */
export function KeyIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <circle cx="7.5" cy="15.5" r="4.5" />
      <path d="m10.7 12.3 9.3-9.3M16 7l3 3M14 9l2 2" />
    </Icon>
  );
}

/** Two people (users). */
export function UsersIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <circle cx="9" cy="8" r="3.5" />
      <path d="M2.5 20a6.5 6.5 0 0 1 13 0" />
      <path d="M16 4.6a3.5 3.5 0 0 1 0 6.8M18.5 14.2A6.5 6.5 0 0 1 21.5 20" />
    </Icon>
  );
}

/** A terminal prompt. */
export function TerminalIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <rect x="3" y="4" width="18" height="16" rx="2" />
      <path d="m7 9 3 3-3 3M13 15h4" />
    </Icon>
  );
}

/** X (close, dismiss). */
export function CloseIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <path d="M18 6 6 18M6 6l12 12" />
    </Icon>
  );
}

/** Arrow pointing right. */
export function ArrowRightIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <path d="M5 12h14M13 6l6 6-6 6" />
    </Icon>
  );
}

/** Plus (create). */
export function PlusIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <path d="M12 5v14M5 12h14" />
    </Icon>
  );
}

/** A page with a plus: a new file. */
export function NewFileIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <path d="M14 3H6.5A1.5 1.5 0 0 0 5 4.5v15A1.5 1.5 0 0 0 6.5 21h11a1.5 1.5 0 0 0 1.5-1.5V8z M14 3v5h5 M12 11v6 M9 14h6" />
    </Icon>
  );
}

/** A folder with a plus: a new folder. */
export function NewFolderIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <path d="M3 7.5A1.5 1.5 0 0 1 4.5 6H9l2 2h8.5A1.5 1.5 0 0 1 21 9.5v8a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 17.5z M12 11v5 M9.5 13.5h5" />
    </Icon>
  );
}

/** Circular arrow: reload. */
export function RefreshIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <path d="M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7" />
    </Icon>
  );
}

/** A box with an arrow leaving it: open in a new tab. */
export function ExternalLinkIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <path d="M14 4h6v6M20 4l-9 9M18 14v4.5a1.5 1.5 0 0 1-1.5 1.5h-11A1.5 1.5 0 0 1 4 18.5v-11A1.5 1.5 0 0 1 5.5 6H10" />
    </Icon>
  );
}

/** A globe: a web preview. */
export function GlobeIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <circle cx="12" cy="12" r="9" />
      <path d="M3 12h18M12 3a14 14 0 0 1 0 18M12 3a14 14 0 0 0 0 18" />
    </Icon>
  );
}

/** A branch: source control. */
export function BranchIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <circle cx="6" cy="5" r="2" />
      <circle cx="6" cy="19" r="2" />
      <circle cx="18" cy="7" r="2" />
      <path d="M6 7v10M18 9c0 5-6 4-11 8.5" />
    </Icon>
  );
}

/** Run or continue (a play triangle). */
export function PlayIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <path d="M7 5v14l11-7z" />
    </Icon>
  );
}

/** Pause (two bars). */
export function PauseIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <path d="M9 5v14M15 5v14" />
    </Icon>
  );
}

/** Step over: an arc over a dot. */
export function StepOverIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <path d="M4 12a8 8 0 0 1 15-3.5M19 4v5h-5" />
      <circle cx="12" cy="18" r="2" />
    </Icon>
  );
}

/** Step into: an arrow down to a dot. */
export function StepIntoIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <path d="M12 3v10M8 9l4 4 4-4" />
      <circle cx="12" cy="19" r="2" />
    </Icon>
  );
}

/** Step out: an arrow up from a dot. */
export function StepOutIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <path d="M12 14V4M8 8l4-4 4 4" />
      <circle cx="12" cy="19" r="2" />
    </Icon>
  );
}

/** Restart: a circular arrow. */
export function RestartIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <path d="M20 12a8 8 0 1 1-2.3-5.7M20 4v5h-5" />
    </Icon>
  );
}

/** Stop: a square. */
export function StopIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <rect x="6" y="6" width="12" height="12" rx="1" />
    </Icon>
  );
}

/** Two pages: the files view. */
export function FilesIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <path d="M9 3h7l4 4v11a1 1 0 0 1-1 1H9a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1z" />
      <path d="M16 3v4h4M5 7v13a1 1 0 0 0 1 1h10" />
    </Icon>
  );
}

/** A magnifier: search. */
export function SearchIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <circle cx="11" cy="11" r="6" />
      <path d="M20 20l-4.5-4.5" />
    </Icon>
  );
}

/** A play triangle with a bug's legs: run and debug. */
export function DebugIcon(props: IconProps) {
  return (
    <Icon {...props}>
      <path d="M5 4v12l9-6z" />
      <circle cx="17" cy="17" r="3" />
      <path d="M17 12.5V14M13 17h1M20 17h1M14.5 14.5l1 1M19.5 14.5l-1 1" />
    </Icon>
  );
}
