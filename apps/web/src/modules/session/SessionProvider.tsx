import type { Me } from '@studio/protocol';
import { useQuery, useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from 'react';
import { useNavigate } from 'react-router';
import { meQueryOptions, signOut, signOutEverywhere } from '../../api/auth.ts';
import { connectEvents } from '../../api/events.ts';
import { hasCode } from '../../api/http.ts';
import { PUBLIC_QUERY_ROOTS, queryKeys } from '../../api/query-keys.ts';
import { useToast } from '../../components/Toaster.tsx';
import { clearAllDrafts } from '../drafts/use-draft.ts';
import { applyWorkspaceEvent } from '../workspaces/workspace-events.ts';

/** Why nobody is signed in any more: they chose to leave, or the session ended under them. */
export type SessionEnd = 'signed-out' | 'expired' | null;

interface SessionState {
  /** The signed-in user; `null` when signed out, `undefined` while the first check runs. */
  me: Me | null | undefined;
  meQuery: UseQueryResult<Me | null>;
  ended: SessionEnd;
  /** Record a fresh sign-in (sign-in form, setup, invite). */
  signedIn: (me: Me) => void;
  signOut: (everywhere?: boolean) => Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

/**
 * Owns the signed-in state. A 401 `unauthenticated` from any query or mutation, or the events
 * socket closing with 4401, drops the user's cached data; the route guard then sends the person
 * to sign in and back to where they were.
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const toast = useToast();
  const meQuery = useQuery(meQueryOptions());
  const me = meQuery.data;
  const [ended, setEnded] = useState<SessionEnd>(null);
  const [socketEpoch, setSocketEpoch] = useState(0);
  const stopEvents = useRef<(() => void) | null>(null);

  const dropUserData = useCallback(() => {
    queryClient.setQueryData(queryKeys.me(), null);
    queryClient.removeQueries({
      predicate: (query) => {
        const root = String(query.queryKey[0]);
        return root !== queryKeys.me()[0] && !PUBLIC_QUERY_ROOTS.includes(root);
      },
    });
  }, [queryClient]);

  const expire = useCallback(() => {
    if (queryClient.getQueryData(queryKeys.me()) === null) return;
    setEnded('expired');
    dropUserData();
  }, [dropUserData, queryClient]);

  // Any request that finds the session gone means the whole app is signed out.
  useEffect(() => {
    const unsubscribeQueries = queryClient.getQueryCache().subscribe((event) => {
      if (
        event.type === 'updated' &&
        event.action.type === 'error' &&
        hasCode(event.action.error, 'unauthenticated')
      ) {
        expire();
      }
    });
    const unsubscribeMutations = queryClient.getMutationCache().subscribe((event) => {
      if (
        event.type === 'updated' &&
        event.action.type === 'error' &&
        hasCode(event.action.error, 'unauthenticated')
      ) {
        expire();
      }
    });
    return () => {
      unsubscribeQueries();
      unsubscribeMutations();
    };
  }, [expire, queryClient]);

  const userId = me?.user.id;
  useEffect(() => {
    if (!userId) return;
    const stop = connectEvents({
      onEvent: (event) => applyWorkspaceEvent(queryClient, event),
      onSessionEnded: expire,
      // A dropped socket may mean the session is gone: ask the server.
      onDisconnect: () => void queryClient.invalidateQueries({ queryKey: queryKeys.me() }),
    });
    stopEvents.current = stop;
    return () => {
      stop();
      stopEvents.current = null;
    };
  }, [userId, expire, queryClient, socketEpoch]);

  const signedIn = useCallback(
    (next: Me) => {
      setEnded(null);
      queryClient.setQueryData(queryKeys.me(), next);
    },
    [queryClient],
  );

  const endSession = useCallback(
    async (everywhere = false) => {
      // Close the socket first, so the server's 4401 for this very sign-out is not read as an expiry.
      stopEvents.current?.();
      try {
        await (everywhere ? signOutEverywhere() : signOut());
      } catch (error) {
        if (!hasCode(error, 'unauthenticated')) {
          setSocketEpoch((epoch) => epoch + 1);
          throw error;
        }
      }
      clearAllDrafts();
      setEnded('signed-out');
      navigate('/sign-in', { replace: true });
      dropUserData();
      toast(everywhere ? 'Signed out on every device.' : 'Signed out.');
    },
    [dropUserData, navigate, toast],
  );

  const value = useMemo<SessionState>(
    () => ({ me, meQuery, ended, signedIn, signOut: endSession }),
    [me, meQuery, ended, signedIn, endSession],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/** The session state; only inside <SessionProvider>. */
export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSession must be used inside <SessionProvider>');
  return state;
}

/** The signed-in user; only inside <RequireAuth>, where one is guaranteed. */
export function useCurrentUser(): Me['user'] {
  const { me } = useSession();
  if (!me) throw new Error('useCurrentUser must be used inside <RequireAuth>');
  return me.user;
}
