/** Column headings of a data table, with a last, visually hidden "Actions" column for row buttons. */
export function TableHead({
  columns,
  compact = false,
}: {
  columns: string[];
  /** Tighter cells, for tables inside a card section. */
  compact?: boolean;
}) {
  const cell = compact ? 'px-4 py-2 font-medium' : 'px-5 py-2.5 font-medium';
  return (
    <thead
      className={`${compact ? '' : 'border-b border-line '}bg-subtle text-[12px] tracking-wide text-muted uppercase`}
    >
      <tr>
        {columns.map((column) => (
          <th key={column} scope="col" className={cell}>
            {column}
          </th>
        ))}
        <th scope="col" className={cell}>
          <span className="sr-only">Actions</span>
        </th>
      </tr>
    </thead>
  );
}
