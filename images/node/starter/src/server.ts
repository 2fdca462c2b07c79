// A small web app on Node's own http module: `npm start` compiles it and serves on port 3000.
import { createServer } from 'node:http';
import { greeting } from './greeting.js';

const PORT = 3000;

const server = createServer((request, response) => {
  if (request.url === '/api/hello') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ message: greeting('API') }));
    return;
  }
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  response.end(`<!doctype html><title>TypeScript starter</title><h1>${greeting('world')}</h1>`);
});

server.listen(PORT, () => console.log(`Serving on port ${PORT}: open it from the Ports panel`));
