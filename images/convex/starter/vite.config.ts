import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The page talks to the Convex backend (`npx convex dev`, on port 3210) through this server, so a
// browser that reaches the page through the workspace's preview reaches the backend too.
export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    proxy: { '/api': { target: 'http://127.0.0.1:3210', ws: true } },
  },
});
