import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The dev server stands in front of the API server; the API rejects foreign Origins (CSRF),
// so proxied requests and WebSocket upgrades carry the target's origin instead of Vite's.
const API_ORIGIN = 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [react(), tailwindcss()],
  resolve: {
    // y-monaco imports the editor by a path monaco-editor 0.5x no longer exports: give it ours,
    // so there is one editor (and one Yjs: two copies break its type checks).
    alias: { 'monaco-editor/esm/vs/editor/editor.api.js': 'monaco-editor/editor' },
    dedupe: ['yjs'],
  },
  build: { outDir: 'dist', emptyOutDir: true },
  server: {
    proxy: {
      '/api': {
        target: API_ORIGIN,
        changeOrigin: true,
        ws: true,
        configure: (proxy) => {
          proxy.on('proxyReq', (req) => req.setHeader('origin', API_ORIGIN));
          proxy.on('proxyReqWs', (req) => req.setHeader('origin', API_ORIGIN));
        },
      },
    },
  },
});
