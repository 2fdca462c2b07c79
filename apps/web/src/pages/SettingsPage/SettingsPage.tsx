import { useEffect } from 'react';
import { useLocation } from 'react-router';
import { Card } from '../../components/Card.tsx';
import { PageHeader } from '../../components/PageHeader.tsx';
import { useDocumentTitle } from '../../components/use-document-title.ts';
import { ThemePicker } from '../../modules/theme/ThemePicker.tsx';
import { AiSection } from './AiSection.tsx';
import { GitCredentialsSection } from './GitCredentialsSection.tsx';
import { PasswordSection } from './PasswordSection.tsx';
import { ProfileSection } from './ProfileSection.tsx';
import { SessionsSection } from './SessionsSection.tsx';
import { TokensSection } from './TokensSection.tsx';

const SECTIONS = [
  { id: 'profile', label: 'Profile' },
  { id: 'password', label: 'Password' },
  { id: 'api-tokens', label: 'API tokens' },
  { id: 'git-credentials', label: 'Git credentials' },
  { id: 'ai', label: 'AI' },
  { id: 'appearance', label: 'Appearance' },
  { id: 'sessions', label: 'Sessions' },
];

/** `/settings`: profile, password, API tokens, git credentials, AI, appearance and sessions. */
export function SettingsPage() {
  useDocumentTitle('Settings');
  const { hash } = useLocation();

  // The router does not scroll to #fragments on client-side navigation.
  useEffect(() => {
    if (hash) document.getElementById(decodeURIComponent(hash.slice(1)))?.scrollIntoView();
  }, [hash]);

  return (
    <>
      <PageHeader title="Settings" description="Your account on this Prometheus Studio server." />
      <div className="grid grid-cols-[10rem_minmax(0,1fr)] gap-10">
        <nav aria-label="Settings sections" className="sticky top-20 self-start">
          <ul className="space-y-0.5 text-sm">
            {SECTIONS.map((section) => (
              <li key={section.id}>
                <a
                  href={`#${section.id}`}
                  className="block rounded-md px-2.5 py-1.5 text-muted hover:bg-subtle hover:text-fg"
                >
                  {section.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="max-w-3xl space-y-6">
          <ProfileSection />
          <PasswordSection />
          <TokensSection />
          <GitCredentialsSection />
          <AiSection />
          <Card
            id="appearance"
            title="Appearance"
            description="Follow your system's light or dark setting, or pick one. Saved in this browser."
          >
            <ThemePicker />
          </Card>
          <SessionsSection />
        </div>
      </div>
    </>
  );
}
