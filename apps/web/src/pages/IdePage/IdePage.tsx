import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Link, useParams } from 'react-router';
import { workspaceRef, workspacesQueryOptions } from '../../api/workspaces.ts';
import { buttonClasses } from '../../components/Button.tsx';
import { FullPageLoading, FullPageMessage } from '../../components/FullPage.tsx';
import { useDocumentTitle } from '../../components/use-document-title.ts';
import { markRecent } from '../../modules/workspaces/recent.ts';
import { IdeHeader } from './IdeHeader.tsx';
import { IdeLayout } from './IdeLayout.tsx';
import { WorkspaceNotRunning } from './WorkspaceNotRunning.tsx';

/**
 * `/w/:name`: the workspace's IDE. Its status comes from the workspace list that `/api/events`
 * keeps current, so the page switches between "not running" and the IDE by itself.
 */
export function IdePage() {
  // A name for the owner's own, an id for one shared with them.
  const { name = '' } = useParams();
  const workspaces = useQuery(workspacesQueryOptions());
  const workspace = workspaces.data?.find((item) => workspaceRef(item) === name);
  useDocumentTitle(workspace?.name ?? name);
  const known = workspace !== undefined;
  useEffect(() => {
    if (known) markRecent(name);
  }, [known, name]);

  if (workspaces.isPending) return <FullPageLoading label={`Opening ${name}…`} />;
  if (!workspace) {
    return (
      <FullPageMessage
        title={workspaces.isError ? 'Could not load the workspace' : `No workspace named ${name}`}
        action={
          <Link to="/" className={buttonClasses('primary')}>
            Back to the dashboard
          </Link>
        }
      >
        {workspaces.isError
          ? workspaces.error.message
          : 'It may have been deleted, or it belongs to someone else.'}
      </FullPageMessage>
    );
  }
  if (workspace.status !== 'running') {
    return (
      <div className="flex h-full flex-col">
        <IdeHeader workspace={workspace} />
        <div className="min-h-0 flex-1">
          <WorkspaceNotRunning workspace={workspace} />
        </div>
      </div>
    );
  }
  return <IdeLayout key={name} workspace={workspace} />;
}
