import { useMutation, useQuery } from 'convex/react';
import { useState, type FormEvent } from 'react';
import { api } from '../convex/_generated/api';

/** The messages, live: a message sent from any page shows on every page at once. */
export function App() {
  const messages = useQuery(api.messages.list);
  const send = useMutation(api.messages.send);
  const [body, setBody] = useState('');

  async function submit(event: FormEvent) {
    event.preventDefault();
    await send({ author: 'Starter', body });
    setBody('');
  }

  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', maxWidth: '40rem', margin: '3rem auto' }}>
      <h1>Hello, world, from Convex!</h1>
      {messages === undefined ? (
        <p>Connecting to the backend…</p>
      ) : (
        <ul aria-label="Messages">
          {messages.map((message) => (
            <li key={message._id}>
              <b>{message.author}</b>: {message.body}
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={submit}>
        <input
          aria-label="Message"
          value={body}
          onChange={(event) => setBody(event.target.value)}
        />
        <button disabled={!body.trim()}>Send</button>
      </form>
    </main>
  );
}
