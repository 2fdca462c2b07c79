/** The right panel, held for the assistant. */
export function AssistantPlaceholder() {
  return (
    <aside
      aria-label="Assistant"
      className="flex h-full flex-col items-center justify-center gap-2 bg-subtle/60 px-6 text-center"
    >
      <p className="text-sm font-medium text-fg">Assistant</p>
      <p className="text-[13px] text-muted">
        An AI assistant that reads and edits this workspace comes in a later release.
      </p>
    </aside>
  );
}
