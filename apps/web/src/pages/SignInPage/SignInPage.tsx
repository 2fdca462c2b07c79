import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Navigate, useLocation, useSearchParams } from 'react-router';
import { setupStatusQueryOptions, signIn, startProviderSignIn } from '../../api/auth.ts';
import { fieldErrors, hasCode } from '../../api/http.ts';
import { Alert } from '../../components/Alert.tsx';
import { Button } from '../../components/Button.tsx';
import { TextField } from '../../components/Field.tsx';
import { useDocumentTitle } from '../../components/use-document-title.ts';
import { AuthLayout } from '../../modules/layout/AuthLayout.tsx';
import { safeNextPath } from '../../modules/session/next-path.ts';
import type { SignInRedirectState } from '../../modules/session/RequireAuth.tsx';
import { useSession } from '../../modules/session/SessionProvider.tsx';

function signInErrorMessage(error: unknown): string | null {
  if (!error) return null;
  if (hasCode(error, 'invalid_credentials')) return 'Incorrect email or password.';
  if (hasCode(error, 'user_disabled'))
    return 'This account is disabled. Ask an admin to enable it.';
  if (hasCode(error, 'bad_request')) return null;
  // rate_limited's message says when to try again, so show the server's words.
  return error instanceof Error ? error.message : 'Could not sign in.';
}

/** `/sign-in`: email and password, plus GitHub / OIDC when the server has them configured. */
export function SignInPage() {
  useDocumentTitle('Sign in');
  const [params] = useSearchParams();
  const next = safeNextPath(params.get('next'));
  const location = useLocation();
  const sessionEnded = (location.state as SignInRedirectState | null)?.sessionEnded === true;
  const { me, signedIn } = useSession();
  const setup = useQuery(setupStatusQueryOptions());
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');

  const passwordSignIn = useMutation({ mutationFn: signIn, onSuccess: signedIn });
  const providerSignIn = useMutation({
    mutationFn: (provider: Parameters<typeof startProviderSignIn>[0]) =>
      startProviderSignIn(provider, next),
    onSuccess: ({ url }) => window.location.assign(url),
  });

  if (me) return <Navigate to={next} replace />;
  if (setup.data?.needsSetup) return <Navigate to="/setup" replace />;

  const fields = fieldErrors(passwordSignIn.error);
  const formError = signInErrorMessage(passwordSignIn.error);
  const providers = setup.data?.providers;
  const hasProviders = Boolean(providers && (providers.github || providers.oidc));

  return (
    <AuthLayout
      title="Sign in to Prometheus Studio"
      description={next !== '/' ? 'Sign in to continue where you left off.' : undefined}
      footer="No account yet? Ask an admin of this server to invite you."
    >
      <div className="space-y-5">
        {sessionEnded ? (
          <Alert tone="info" title="Your session has ended">
            Sign in again to continue. What you typed is still there.
          </Alert>
        ) : null}

        {hasProviders && providers ? (
          <div className="space-y-2">
            {providers.github ? (
              <Button
                className="w-full"
                pending={providerSignIn.isPending && providerSignIn.variables.kind === 'github'}
                onClick={() => providerSignIn.mutate({ kind: 'github' })}
              >
                Continue with GitHub
              </Button>
            ) : null}
            {providers.oidc ? (
              <Button
                className="w-full"
                pending={providerSignIn.isPending && providerSignIn.variables.kind === 'oidc'}
                onClick={() => {
                  if (providers.oidc)
                    providerSignIn.mutate({ kind: 'oidc', id: providers.oidc.id });
                }}
              >
                Continue with {providers.oidc.name}
              </Button>
            ) : null}
            {providerSignIn.error ? (
              <Alert tone="error">{providerSignIn.error.message}</Alert>
            ) : null}
            <div className="flex items-center gap-3 pt-2 text-xs text-muted" aria-hidden="true">
              <span className="h-px flex-1 bg-line" />
              or with email
              <span className="h-px flex-1 bg-line" />
            </div>
          </div>
        ) : null}

        <form
          className="space-y-4"
          onSubmit={(event) => {
            event.preventDefault();
            passwordSignIn.mutate({ email: email.trim(), password });
          }}
        >
          {formError ? <Alert tone="error">{formError}</Alert> : null}
          <TextField
            label="Email"
            type="email"
            name="email"
            autoComplete="username"
            required
            autoFocus
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            error={fields.email}
          />
          <TextField
            label="Password"
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            error={fields.password}
          />
          <Button
            type="submit"
            variant="primary"
            className="w-full"
            pending={passwordSignIn.isPending}
          >
            Sign in
          </Button>
        </form>
      </div>
    </AuthLayout>
  );
}
