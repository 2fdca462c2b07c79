// The bare Fastify server every product metric is compared with: the floor a Node HTTP server
// with the same framework can reach. It does no auth, no database and no logging.
import Fastify from 'fastify';

const me = {
  user: {
    id: 'usr_baseline',
    email: 'admin@example.com',
    name: 'Admin',
    role: 'admin',
    disabled: false,
    createdAt: '2025-01-01T00:00:00.000Z',
  },
  via: 'token',
};

const app = Fastify({ logger: false });
app.get('/readyz', async () => ({ status: 'ok' }));
app.get('/api/me', async () => me);

app
  .listen({ port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? '127.0.0.1' })
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void app.close().then(() => process.exit(0)));
}
