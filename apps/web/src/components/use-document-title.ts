import { useEffect } from 'react';

const PRODUCT = 'Prometheus Studio';

/** Set the tab title to "<title> · Prometheus Studio" while the calling page is shown. */
export function useDocumentTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · ${PRODUCT}` : PRODUCT;
  }, [title]);
}
