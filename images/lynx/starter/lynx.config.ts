import { pluginReactLynx } from '@lynx-js/react-rsbuild-plugin';
import { defineConfig, type RsbuildPlugin } from '@lynx-js/rspeedy';

const WEB_PREVIEW = '__web_preview?casename=main.web.bundle';

/** The page a browser opens on this port: `/` leads to Lynx's web preview of `main`. */
const pluginWebPreview = (): RsbuildPlugin => ({
  name: 'studio:web-preview',
  setup(api) {
    api.onBeforeStartDevServer(({ server }) => {
      server.middlewares.use((request, response, next) => {
        if (request.url !== '/') return next();
        response.writeHead(302, { location: WEB_PREVIEW }).end();
      });
    });
  },
});

export default defineConfig({
  plugins: [pluginReactLynx(), pluginWebPreview()],
  environments: {
    // The web preview reloads by hand: its live reload would connect to this machine's own
    // address, which a browser reaching the workspace through its preview cannot.
    web: { dev: { hmr: false, liveReload: false } },
    lynx: {},
  },
});
