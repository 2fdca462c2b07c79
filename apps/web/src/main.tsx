import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RouterProvider } from 'react-router';
import { ApiError } from './api/http.ts';
import { Toaster } from './components/Toaster.tsx';
import { ThemeProvider } from './modules/theme/ThemeProvider.tsx';
import { createRouter } from './router.tsx';
import './styles.css';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A 4xx will not change on retry; only an unreachable or failing server is worth retrying.
      retry: (failureCount, error) =>
        failureCount < 2 &&
        !(error instanceof ApiError && error.status >= 400 && error.status < 500),
    },
    mutations: { retry: false },
  },
});

const router = createRouter();

// A part of the app that failed to load — the browser dropped the request when the machine's
// network changed (containers starting beside it), or a newer version replaced its file — is
// loaded again with the page, once a minute at most; a second failure shows the error page.
const CHUNK_RELOAD = 'studio.chunk-reload';
window.addEventListener('vite:preloadError', (event) => {
  const last = Number(sessionStorage.getItem(CHUNK_RELOAD) ?? 0);
  if (Date.now() - last < 60_000) return;
  sessionStorage.setItem(CHUNK_RELOAD, String(Date.now()));
  event.preventDefault();
  window.location.reload();
});

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

createRoot(root).render(
  <StrictMode>
    <ThemeProvider>
      <QueryClientProvider client={queryClient}>
        <Toaster>
          <RouterProvider router={router} />
        </Toaster>
      </QueryClientProvider>
    </ThemeProvider>
  </StrictMode>,
);
