import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { Button } from '../../components/Button.tsx';
import { FullPageLoading, FullPageMessage } from '../../components/FullPage.tsx';
import { signInPathFor } from './next-path.ts';
import { useSession } from './SessionProvider.tsx';

/** State handed to the sign-in page when a guard sends someone there. */
export interface SignInRedirectState {
  sessionEnded?: boolean;
}

/** Render `children` only for a signed-in user; otherwise go to sign in and come back afterwards. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { me, meQuery, ended } = useSession();
  const location = useLocation();

  if (me === undefined) {
    if (meQuery.isError) {
      return (
        <FullPageMessage
          title="Cannot reach the server"
          action={
            <Button
              variant="primary"
              pending={meQuery.isFetching}
              onClick={() => void meQuery.refetch()}
            >
              Try again
            </Button>
          }
        >
          {meQuery.error.message}
        </FullPageMessage>
      );
    }
    return <FullPageLoading />;
  }

  if (me === null) {
    const target =
      ended === 'signed-out'
        ? '/sign-in'
        : signInPathFor(location.pathname + location.search + location.hash);
    const state: SignInRedirectState = { sessionEnded: ended === 'expired' };
    return <Navigate to={target} replace state={state} />;
  }

  return children;
}
