import type { DebugProtocol } from '@vscode/debugprotocol';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import { IconButton } from '../../../components/IconButton.tsx';
import {
  PauseIcon,
  PlayIcon,
  RestartIcon,
  StepIntoIcon,
  StepOutIcon,
  StepOverIcon,
  StopIcon,
} from '../../../components/icons.tsx';
import {
  configForFile,
  debugControllerFor,
  readLaunchConfigs,
  workspacePathOf,
  type DebugController,
  type DebugState,
} from './debug-session.ts';

function Section({ title, children }: { title: string; children: ReactNode }) {
  const [open, setOpen] = useState(true);
  return (
    <section aria-label={title} className="border-t border-line">
      <button
        type="button"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
        className="flex w-full items-center gap-1 px-2 py-1 text-left text-[11px] font-semibold tracking-wide text-muted uppercase hover:text-fg"
      >
        <span aria-hidden className="w-3">
          {open ? '▾' : '▸'}
        </span>
        {title}
      </button>
      {open ? <div className="pb-1">{children}</div> : null}
    </section>
  );
}

const empty = (text: string) => <p className="px-4 py-0.5 text-[12px] text-muted">{text}</p>;

/** A scope's or structured value's children, each expandable when it has its own. */
function VariableTree({
  controller,
  reference,
  children,
  depth,
}: {
  controller: DebugController;
  reference: number;
  children: Readonly<Record<number, readonly DebugProtocol.Variable[]>>;
  depth: number;
}) {
  const variables = children[reference];
  if (!variables) return null;
  if (variables.length === 0) return empty('(empty)');
  return (
    <ul>
      {variables.map((variable) => {
        const expandable = variable.variablesReference > 0;
        const open = expandable && children[variable.variablesReference] !== undefined;
        return (
          <li key={`${variable.name}:${variable.variablesReference}`}>
            <button
              type="button"
              disabled={!expandable}
              aria-expanded={expandable ? open : undefined}
              onClick={() =>
                open
                  ? controller.collapse(variable.variablesReference)
                  : void controller.expand(variable.variablesReference)
              }
              style={{ paddingLeft: `${depth * 12 + 8}px` }}
              className="flex w-full items-baseline gap-1 py-px pr-2 text-left font-mono text-[12px] hover:bg-subtle disabled:cursor-default"
              title={variable.type ? `${variable.name}: ${variable.type}` : variable.name}
            >
              <span aria-hidden className="w-3 shrink-0 text-muted">
                {expandable ? (open ? '▾' : '▸') : ''}
              </span>
              <span className="shrink-0 text-accent">{variable.name}</span>
              <span className="text-muted">=</span>
              <span className="truncate text-fg">{variable.value}</span>
            </button>
            {open ? (
              <VariableTree
                controller={controller}
                reference={variable.variablesReference}
                depth={depth + 1}
              >
                {children}
              </VariableTree>
            ) : null}
          </li>
        );
      })}
    </ul>
  );
}

/** The debug console: the program's output and the adapter's words, and an expression line. */
function DebugConsole({ controller, state }: { controller: DebugController; state: DebugState }) {
  const [input, setInput] = useState('');
  const outputRef = useRef<HTMLDivElement>(null);
  const lines = state.session?.console ?? [];
  useEffect(() => {
    outputRef.current?.scrollTo({ top: outputRef.current.scrollHeight });
  }, [lines.length]);
  return (
    <div className="px-2">
      <div
        ref={outputRef}
        role="log"
        aria-label="Debug console output"
        className="max-h-48 min-h-12 overflow-y-auto rounded border border-line bg-subtle/40 p-1.5 font-mono text-[12px] whitespace-pre-wrap"
      >
        {lines.map((line, index) => (
          <div
            key={index}
            className={
              line.kind === 'error'
                ? 'text-danger'
                : line.kind === 'input'
                  ? 'text-accent'
                  : line.kind === 'info'
                    ? 'text-muted'
                    : 'text-fg'
            }
          >
            {line.kind === 'input' ? `› ${line.text}` : line.text.replace(/\n$/, '')}
          </div>
        ))}
      </div>
      <input
        aria-label="Evaluate in the debug console"
        placeholder="Evaluate an expression (Enter)"
        value={input}
        onChange={(event) => setInput(event.target.value)}
        onKeyDown={(event) => {
          if (event.key !== 'Enter' || !input.trim()) return;
          void controller.evaluate(input);
          setInput('');
        }}
        className="mt-1 h-7 w-full rounded border border-line bg-bg px-2 font-mono text-[12px] text-fg outline-none focus:border-accent"
      />
    </div>
  );
}

/**
 * Run and Debug: pick "debug this file" or a `.vscode/launch.json` configuration, then step,
 * see variables, watch expressions, the call stack, breakpoints and the debug console.
 */
export function DebugPanel({
  workspace,
  activeFile,
  onOpen,
}: {
  workspace: string;
  activeFile: string | null;
  onOpen: (path: string, line?: number) => void;
}) {
  const controller = debugControllerFor(workspace);
  const state = useSyncExternalStore(controller.subscribe, controller.getState);
  const launchJson = useQuery({
    queryKey: ['workspaces', workspace, 'launch.json'],
    queryFn: () => readLaunchConfigs(workspace),
    retry: false,
  });
  const fileConfig = activeFile ? configForFile(activeFile) : null;
  const configs = [
    ...(fileConfig ? [{ ...fileConfig, name: `Debug this file (${fileConfig.name})` }] : []),
    ...(launchJson.data ?? []),
  ];
  const [choice, setChoice] = useState(0);
  const config = configs[Math.min(choice, configs.length - 1)];
  const [watchInput, setWatchInput] = useState('');
  const session = state.session;
  const live = session && session.status !== 'ended';

  return (
    <div aria-label="Run and Debug" role="region" className="h-full overflow-y-auto text-[13px]">
      <div className="flex items-center gap-1 px-2 py-2">
        {live ? (
          <div
            role="toolbar"
            aria-label="Debug toolbar"
            className="flex items-center gap-0.5 text-[16px]"
          >
            {session.status === 'paused' ? (
              <IconButton label="Continue (F5)" onClick={() => void controller.continue()}>
                <PlayIcon className="text-success" />
              </IconButton>
            ) : (
              <IconButton label="Pause (F6)" onClick={() => void controller.pause()}>
                <PauseIcon />
              </IconButton>
            )}
            <IconButton label="Step Over (F10)" onClick={() => void controller.stepOver()}>
              <StepOverIcon />
            </IconButton>
            <IconButton label="Step Into (F11)" onClick={() => void controller.stepInto()}>
              <StepIntoIcon />
            </IconButton>
            <IconButton label="Step Out (Shift+F11)" onClick={() => void controller.stepOut()}>
              <StepOutIcon />
            </IconButton>
            <IconButton
              label="Restart (Ctrl+Shift+F5)"
              onClick={() => void controller.restart(activeFile)}
            >
              <RestartIcon />
            </IconButton>
            <IconButton label="Stop (Shift+F5)" onClick={() => void controller.stop()}>
              <StopIcon className="text-danger" />
            </IconButton>
          </div>
        ) : (
          <>
            <select
              aria-label="Debug configuration"
              value={Math.min(choice, configs.length - 1)}
              onChange={(event) => setChoice(Number(event.target.value))}
              disabled={configs.length === 0}
              className="h-7 min-w-0 flex-1 rounded border border-line bg-bg px-1 text-[12px] text-fg"
            >
              {configs.length === 0 ? <option>No configuration</option> : null}
              {configs.map((item, index) => (
                <option key={index} value={index}>
                  {item.name}
                </option>
              ))}
            </select>
            <IconButton
              label="Start Debugging (F5)"
              onClick={() => config && void controller.start(config, activeFile)}
            >
              <PlayIcon className="text-success" />
            </IconButton>
          </>
        )}
      </div>
      {launchJson.error ? (
        <p role="alert" className="px-3 pb-2 text-[12px] text-danger">
          {launchJson.error.message}
        </p>
      ) : null}
      {configs.length === 0 ? (
        <p className="px-3 pb-2 text-[12px] text-muted">
          Open a Python or Go file to debug it, or add configurations to .vscode/launch.json.
        </p>
      ) : null}
      {session ? (
        <p aria-live="polite" className="px-3 pb-2 text-[12px] text-muted">
          {session.status === 'starting'
            ? `Starting ${session.config.name}…`
            : session.status === 'running'
              ? `Running ${session.config.name}`
              : session.status === 'paused'
                ? `Paused${session.reason ? ` on ${session.reason}` : ''}${
                    state.location ? ` at ${state.location.path}:${state.location.line}` : ''
                  }`
                : `Ended${session.reason && session.reason !== 'stopped' ? `: ${session.reason}` : ''}`}
        </p>
      ) : null}

      <Section title="Variables">
        {session?.status === 'paused' && session.scopes.length > 0
          ? session.scopes.map((scope) => {
              const open = session.children[scope.variablesReference] !== undefined;
              return (
                <div key={scope.variablesReference}>
                  <button
                    type="button"
                    aria-expanded={open}
                    onClick={() =>
                      open
                        ? controller.collapse(scope.variablesReference)
                        : void controller.expand(scope.variablesReference)
                    }
                    className="flex w-full items-center gap-1 px-2 py-px text-left text-[12px] font-medium hover:bg-subtle"
                  >
                    <span aria-hidden className="w-3 text-muted">
                      {open ? '▾' : '▸'}
                    </span>
                    {scope.name}
                  </button>
                  <VariableTree
                    controller={controller}
                    reference={scope.variablesReference}
                    depth={1}
                  >
                    {session.children}
                  </VariableTree>
                </div>
              );
            })
          : empty(live ? 'Shown while paused.' : 'Not debugging.')}
      </Section>

      <Section title="Watch">
        <ul>
          {state.watches.map((watch, index) => (
            <li
              key={index}
              className="group flex items-baseline gap-1 px-3 py-px font-mono text-[12px]"
            >
              <span className="shrink-0 text-accent">{watch.expression}</span>
              <span className="text-muted">=</span>
              <span className={`truncate ${watch.error ? 'text-danger' : 'text-fg'}`}>
                {watch.error ??
                  watch.value ??
                  (session?.status === 'paused' ? '…' : 'not available')}
              </span>
              <button
                type="button"
                aria-label={`Remove watch ${watch.expression}`}
                onClick={() => controller.removeWatch(index)}
                className="ml-auto text-muted opacity-0 group-hover:opacity-100 hover:text-fg focus:opacity-100"
              >
                ×
              </button>
            </li>
          ))}
        </ul>
        <input
          aria-label="Add a watch expression"
          placeholder="Add expression (Enter)"
          value={watchInput}
          onChange={(event) => setWatchInput(event.target.value)}
          onKeyDown={(event) => {
            if (event.key !== 'Enter') return;
            controller.addWatch(watchInput);
            setWatchInput('');
          }}
          className="mx-2 mt-0.5 h-6 w-[calc(100%-1rem)] rounded border border-line bg-bg px-2 font-mono text-[12px] text-fg outline-none focus:border-accent"
        />
      </Section>

      <Section title="Call Stack">
        {session?.status === 'paused' && session.frames.length > 0 ? (
          <ul>
            {session.frames.map((frame) => {
              const path = workspacePathOf(frame.source?.path);
              return (
                <li key={frame.id}>
                  <button
                    type="button"
                    aria-current={frame.id === session.frameId ? 'true' : undefined}
                    onClick={() => {
                      void controller.selectFrame(frame.id);
                      if (path) onOpen(path, frame.line);
                    }}
                    className={`flex w-full items-baseline gap-2 px-3 py-px text-left text-[12px] hover:bg-subtle ${
                      frame.id === session.frameId ? 'bg-accent-soft' : ''
                    }`}
                  >
                    <span className="truncate font-mono text-fg">{frame.name}</span>
                    <span className="ml-auto shrink-0 text-muted">
                      {(path ?? frame.source?.name ?? '?').split('/').at(-1)}:{frame.line}
                    </span>
                  </button>
                </li>
              );
            })}
          </ul>
        ) : (
          empty(live ? 'Shown while paused.' : 'Not debugging.')
        )}
      </Section>

      <Section title="Breakpoints">
        {Object.keys(state.breakpoints).length === 0
          ? empty('Click left of a line number, or press F9, to add one.')
          : null}
        <ul>
          {Object.entries(state.breakpoints).flatMap(([path, list]) =>
            list.map((breakpoint) => (
              <BreakpointRow
                // A new condition starts a new draft.
                key={`${path}:${breakpoint.line}:${breakpoint.condition ?? ''}`}
                controller={controller}
                path={path}
                line={breakpoint.line}
                condition={breakpoint.condition}
                editing={state.editing?.path === path && state.editing.line === breakpoint.line}
                onOpen={onOpen}
              />
            )),
          )}
        </ul>
      </Section>

      <Section title="Debug Console">
        <DebugConsole controller={controller} state={state} />
      </Section>
    </div>
  );
}

function BreakpointRow({
  controller,
  path,
  line,
  condition,
  editing,
  onOpen,
}: {
  controller: DebugController;
  path: string;
  line: number;
  condition: string | undefined;
  editing: boolean;
  onOpen: (path: string, line?: number) => void;
}) {
  const [draft, setDraft] = useState(condition ?? '');
  const [open, setOpen] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const shown = open || editing;
  useEffect(() => {
    if (editing) inputRef.current?.focus();
  }, [editing]);
  const close = () => {
    setOpen(false);
    if (editing) controller.stopEditing();
  };
  return (
    <li className="group px-3 py-px text-[12px]">
      <div className="flex items-baseline gap-2">
        <span aria-hidden className={condition ? 'text-warning' : 'text-danger'}>
          ●
        </span>
        <button
          type="button"
          onClick={() => onOpen(path, line)}
          className="min-w-0 truncate text-left text-fg hover:underline"
        >
          {path}:{line}
        </button>
        {condition && !shown ? (
          <span className="truncate font-mono text-muted">if {condition}</span>
        ) : null}
        <span className="ml-auto flex shrink-0 gap-1 opacity-0 group-hover:opacity-100 focus-within:opacity-100">
          <button
            type="button"
            aria-label={`Edit condition of ${path}:${line}`}
            onClick={() => {
              setOpen(true);
              requestAnimationFrame(() => inputRef.current?.focus());
            }}
            className="text-muted hover:text-fg"
          >
            ✎
          </button>
          <button
            type="button"
            aria-label={`Remove breakpoint ${path}:${line}`}
            onClick={() => controller.removeBreakpoint(path, line)}
            className="text-muted hover:text-fg"
          >
            ×
          </button>
        </span>
      </div>
      {shown ? (
        <input
          ref={inputRef}
          aria-label={`Condition of ${path}:${line}`}
          placeholder="Break when this expression is true (Enter)"
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter') {
              controller.setCondition(path, line, draft);
              close();
            } else if (event.key === 'Escape') {
              setDraft(condition ?? '');
              close();
            }
          }}
          onBlur={close}
          className="mt-0.5 h-6 w-full rounded border border-line bg-bg px-2 font-mono text-[12px] text-fg outline-none focus:border-accent"
        />
      ) : null}
    </li>
  );
}
