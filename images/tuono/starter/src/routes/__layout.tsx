import type { JSX } from 'react';
import { TuonoScripts, type TuonoLayoutProps } from 'tuono';
import '../styles/global.css';

/** Every page's frame: the document, and the scripts that hydrate it. */
export default function RootLayout({ children }: TuonoLayoutProps): JSX.Element {
  return (
    <html lang="en">
      <body>
        <main>{children}</main>
        <TuonoScripts />
      </body>
    </html>
  );
}
