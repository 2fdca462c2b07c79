import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { SetupStatus } from '@studio/protocol';
import { useState } from 'react';
import { Link, Navigate, useSearchParams } from 'react-router';
import { completeSetup, setupStatusQueryOptions } from '../../api/auth.ts';
import { fieldErrors, hasCode } from '../../api/http.ts';
import { queryKeys } from '../../api/query-keys.ts';
import { Alert } from '../../components/Alert.tsx';
import { Button } from '../../components/Button.tsx';
import { TextField } from '../../components/Field.tsx';
import { FullPageLoading } from '../../components/FullPage.tsx';
import { useDocumentTitle } from '../../components/use-document-title.ts';
import { AuthLayout } from '../../modules/layout/AuthLayout.tsx';
import { useSession } from '../../modules/session/SessionProvider.tsx';

function setupErrorMessage(error: unknown): string | null {
  if (!error) return null;
  if (hasCode(error, 'invalid_setup_token')) {
    return 'This setup link is not valid. Open the exact link printed in the server log; each server start prints a fresh one.';
  }
  if (hasCode(error, 'setup_completed')) return 'This server is already set up. Sign in instead.';
  if (hasCode(error, 'bad_request') && Object.keys(fieldErrors(error)).length > 0) return null;
  return error instanceof Error ? error.message : 'Could not finish setup.';
}

/** `/setup?token=…`: create the first admin with the one-time link from the server log. */
export function SetupPage() {
  useDocumentTitle('Set up');
  const [params] = useSearchParams();
  const token = params.get('token');
  const queryClient = useQueryClient();
  const { me, signedIn } = useSession();
  const setup = useQuery(setupStatusQueryOptions());
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');

  const create = useMutation({
    mutationFn: completeSetup,
    onSuccess: (created) => {
      queryClient.setQueryData<SetupStatus>(queryKeys.setupStatus(), (status) =>
        status ? { ...status, needsSetup: false } : status,
      );
      signedIn(created);
    },
    onError: (error) => {
      if (hasCode(error, 'setup_completed')) {
        void queryClient.invalidateQueries({ queryKey: queryKeys.setupStatus() });
      }
    },
  });

  if (me) return <Navigate to="/" replace />;
  if (setup.isPending) return <FullPageLoading />;
  if (setup.isError) {
    return (
      <AuthLayout title="Set up Prometheus Studio">
        <Alert tone="error">{setup.error.message}</Alert>
      </AuthLayout>
    );
  }
  if (!setup.data.needsSetup) return <Navigate to="/sign-in" replace />;

  if (!token) {
    return (
      <AuthLayout
        title="Set up Prometheus Studio"
        description="This server has no admin account yet."
      >
        <div className="space-y-3 text-sm text-fg">
          <p>
            To create the first admin, open the one-time <strong>setup link</strong> that the server
            printed in its log when it started. It looks like:
          </p>
          <pre className="overflow-x-auto rounded-md border border-line bg-subtle px-3 py-2 font-mono text-[13px] text-muted">
            {window.location.origin}/setup?token=…
          </pre>
          <p className="text-muted">
            Or restart the server with{' '}
            <code className="font-mono text-[13px]">STUDIO_ADMIN_EMAIL</code> and{' '}
            <code className="font-mono text-[13px]">STUDIO_ADMIN_PASSWORD</code> set to create the
            admin directly.
          </p>
        </div>
      </AuthLayout>
    );
  }

  const fields = fieldErrors(create.error);
  const formError = setupErrorMessage(create.error);

  return (
    <AuthLayout
      title="Set up Prometheus Studio"
      description="Create the first admin account for this server."
      footer={
        hasCode(create.error, 'setup_completed') ? (
          <Link to="/sign-in">Go to sign in</Link>
        ) : undefined
      }
    >
      <form
        className="space-y-4"
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate({ token, name: name.trim(), email: email.trim(), password });
        }}
      >
        {formError ? <Alert tone="error">{formError}</Alert> : null}
        <TextField
          label="Name"
          name="name"
          autoComplete="name"
          required
          maxLength={100}
          autoFocus
          value={name}
          onChange={(event) => setName(event.target.value)}
          error={fields.name}
        />
        <TextField
          label="Email"
          type="email"
          name="email"
          autoComplete="username"
          required
          value={email}
          onChange={(event) => setEmail(event.target.value)}
          error={fields.email}
        />
        <TextField
          label="Password"
          type="password"
          name="password"
          autoComplete="new-password"
          required
          minLength={10}
          maxLength={128}
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          hint="At least 10 characters. A long passphrase is best."
          error={fields.password}
        />
        <Button type="submit" variant="primary" className="w-full" pending={create.isPending}>
          Create admin account
        </Button>
      </form>
    </AuthLayout>
  );
}
