import { ConvexProvider, ConvexReactClient } from 'convex/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';

// The backend through the page's own server (see vite.config.ts), unless one is named.
const convex = new ConvexReactClient(import.meta.env.VITE_CONVEX_URL ?? window.location.origin);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ConvexProvider client={convex}>
      <App />
    </ConvexProvider>
  </StrictMode>,
);
