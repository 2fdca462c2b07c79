import { api } from 'encore.dev/api';

interface Greeting {
  message: string;
}

/** Greets `name`: `GET /hello/:name`, public, its request and answer checked by Encore. */
export const get = api(
  { expose: true, method: 'GET', path: '/hello/:name' },
  async ({ name }: { name: string }): Promise<Greeting> => ({
    message: greeting(name),
  }),
);

/** The text the API answers. */
export function greeting(name: string): string {
  return `Hello, ${name}, from Encore.ts!`;
}
