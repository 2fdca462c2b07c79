import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, Navigate, useParams } from 'react-router';
import { fieldErrors, hasCode } from '../../api/http.ts';
import { acceptInvite, inviteQueryOptions } from '../../api/invites.ts';
import { Alert } from '../../components/Alert.tsx';
import { Button, buttonClasses } from '../../components/Button.tsx';
import { TextField } from '../../components/Field.tsx';
import { FullPageLoading } from '../../components/FullPage.tsx';
import { useDocumentTitle } from '../../components/use-document-title.ts';
import { AuthLayout } from '../../modules/layout/AuthLayout.tsx';
import { useSession } from '../../modules/session/SessionProvider.tsx';

/** `/invite/:token`: someone an admin invited chooses a password and is signed in. */
export function InvitePage() {
  useDocumentTitle('Accept invite');
  const { token = '' } = useParams();
  const { signedIn } = useSession();
  const invite = useQuery(inviteQueryOptions(token));
  const [password, setPassword] = useState('');
  const [accepted, setAccepted] = useState(false);

  const accept = useMutation({
    mutationFn: (chosen: string) => acceptInvite(token, { password: chosen }),
    onSuccess: (me) => {
      setAccepted(true);
      signedIn(me);
    },
  });

  if (accepted) return <Navigate to="/" replace />;
  if (invite.isPending) return <FullPageLoading label="Checking your invite…" />;

  if (invite.isError) {
    const invalid = hasCode(invite.error, 'invalid_invite', 'not_found');
    return (
      <AuthLayout title={invalid ? 'This invite is not valid' : 'Cannot open this invite'}>
        <div className="space-y-4 text-sm">
          <p className="text-fg">
            {invalid
              ? 'The link may be mistyped, already used, or expired. Ask an admin of this server for a new invite.'
              : invite.error.message}
          </p>
          <Link to="/sign-in" className={`${buttonClasses('secondary')} w-full`}>
            Go to sign in
          </Link>
        </div>
      </AuthLayout>
    );
  }

  const fields = fieldErrors(accept.error);
  const acceptError =
    accept.error && !fields.password
      ? hasCode(accept.error, 'invalid_invite')
        ? 'This invite is no longer valid. Ask an admin for a new one.'
        : accept.error.message
      : null;

  return (
    <AuthLayout
      title={`Welcome, ${invite.data.name}`}
      description="Choose a password to finish setting up your account."
    >
      <form
        className="space-y-4"
        onSubmit={(event) => {
          event.preventDefault();
          accept.mutate(password);
        }}
      >
        {acceptError ? <Alert tone="error">{acceptError}</Alert> : null}
        <TextField
          label="Email"
          type="email"
          value={invite.data.email}
          readOnly
          autoComplete="username"
        />
        <TextField
          label="Password"
          type="password"
          name="password"
          autoComplete="new-password"
          required
          minLength={10}
          maxLength={128}
          autoFocus
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          hint="At least 10 characters. A long passphrase is best."
          error={fields.password}
        />
        <Button type="submit" variant="primary" className="w-full" pending={accept.isPending}>
          Accept invite
        </Button>
      </form>
    </AuthLayout>
  );
}
