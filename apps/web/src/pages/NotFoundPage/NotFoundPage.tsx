import { Link } from 'react-router';
import { buttonClasses } from '../../components/Button.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import { useDocumentTitle } from '../../components/use-document-title.ts';

/** Any path no route matches. */
export function NotFoundPage() {
  useDocumentTitle('Page not found');
  return (
    <>
      <h1 className="sr-only">Page not found</h1>
      <EmptyState
        title="This page does not exist"
        action={
          <Link to="/" className={buttonClasses('primary')}>
            Go to the dashboard
          </Link>
        }
      >
        Check the address, or head back to your workspaces.
      </EmptyState>
    </>
  );
}
