import { useState } from 'react';
import { Button } from '../../components/Button.tsx';
import { Card } from '../../components/Card.tsx';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { useSession } from '../../modules/session/SessionProvider.tsx';

/** "Sign out everywhere": ends every session of this user, this browser included. */
export function SessionsSection() {
  const { signOut } = useSession();
  const [confirming, setConfirming] = useState(false);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  return (
    <Card
      id="sessions"
      title="Sessions"
      description="Signed in somewhere you should not be? End every session of your account, including this one. Your API tokens are managed separately above."
      footer={
        <Button variant="danger" onClick={() => setConfirming(true)}>
          Sign out everywhere
        </Button>
      }
    >
      <ConfirmDialog
        open={confirming}
        title="Sign out everywhere?"
        description="Every browser and device signed in to your account is signed out, including this one. You will need to sign in again."
        confirmLabel="Sign out all sessions"
        pending={pending}
        error={error}
        onConfirm={async () => {
          setPending(true);
          setError(null);
          try {
            await signOut(true);
          } catch (failure) {
            setError(failure instanceof Error ? failure.message : 'Could not sign out.');
            setPending(false);
          }
        }}
        onClose={() => {
          setConfirming(false);
          setError(null);
        }}
      />
    </Card>
  );
}
