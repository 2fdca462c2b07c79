import { useId } from 'react';
import { MonitorIcon, MoonIcon, SunIcon } from '../../components/icons.tsx';
import { useTheme } from './ThemeProvider.tsx';
import type { ThemePreference } from './theme.ts';

const OPTIONS: { value: ThemePreference; label: string; Icon: typeof SunIcon }[] = [
  { value: 'system', label: 'System', Icon: MonitorIcon },
  { value: 'light', label: 'Light', Icon: SunIcon },
  { value: 'dark', label: 'Dark', Icon: MoonIcon },
];

/** A radio group for System / Light / Dark. */
export function ThemePicker() {
  const { preference, setPreference } = useTheme();
  const name = useId();
  return (
    <fieldset>
      <legend className="sr-only">Theme</legend>
      <div className="grid max-w-md grid-cols-3 gap-2">
        {OPTIONS.map(({ value, label, Icon }) => (
          <label
            key={value}
            className="flex cursor-pointer items-center gap-2 rounded-md border border-line-strong bg-surface px-3 py-2 text-sm text-fg has-checked:border-accent has-checked:bg-accent-soft has-focus-visible:outline-2 has-focus-visible:outline-accent"
          >
            <input
              type="radio"
              name={name}
              value={value}
              checked={preference === value}
              onChange={() => setPreference(value)}
              className="sr-only"
            />
            <Icon className="size-4 text-muted" />
            {label}
          </label>
        ))}
      </div>
    </fieldset>
  );
}
