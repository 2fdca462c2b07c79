import type { JSX } from 'react';
import type { TuonoRouteProps } from 'tuono';

/** What the Rust handler in index.rs sends for this page. */
interface IndexProps {
  greeting: string;
  servedBy: string;
}

/** The home page, rendered on the server with the props index.rs returns, then hydrated. */
export default function IndexPage({ data, isLoading }: TuonoRouteProps<IndexProps>): JSX.Element {
  if (isLoading) return <p>Loading…</p>;
  return (
    <>
      <h1>{data.greeting}</h1>
      <p>Rendered by React, its data from a Rust handler ({data.servedBy}).</p>
    </>
  );
}
