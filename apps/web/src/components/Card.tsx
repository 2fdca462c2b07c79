import { useId, type ReactNode } from 'react';

/** A titled section on a page; `footer` holds the section's main action. */
export function Card({
  title,
  description,
  children,
  footer,
  id,
  headingLevel = 2,
}: {
  title: ReactNode;
  description?: ReactNode;
  children?: ReactNode;
  footer?: ReactNode;
  id?: string;
  headingLevel?: 2 | 3;
}) {
  const headingId = useId();
  const Heading = headingLevel === 2 ? 'h2' : 'h3';
  return (
    <section
      id={id}
      aria-labelledby={headingId}
      className="scroll-mt-20 overflow-hidden rounded-lg border border-line bg-surface shadow-xs"
    >
      <div className="space-y-1 px-5 pt-5">
        <Heading id={headingId} className="text-base font-semibold text-fg">
          {title}
        </Heading>
        {description ? <div className="text-sm text-muted">{description}</div> : null}
      </div>
      {children ? <div className="px-5 pt-4 pb-5">{children}</div> : <div className="pb-5" />}
      {footer ? (
        <div className="flex items-center justify-end gap-3 border-t border-line bg-subtle/60 px-5 py-3">
          {footer}
        </div>
      ) : null}
    </section>
  );
}
