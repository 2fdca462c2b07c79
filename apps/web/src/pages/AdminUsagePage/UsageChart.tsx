import type { UsagePoint } from '@studio/protocol';

/** One line of the chart. */
export interface UsageSeries {
  name: string;
  points: Array<{ at: number; value: number }>;
}

// Distinct in both themes; the legend repeats each colour beside its name.
const COLOURS = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2'];
const WIDTH = 720;
const HEIGHT = 200;
const PAD = { left: 44, right: 8, top: 8, bottom: 22 };

/** The metrics the chart can show, with how each value reads. */
export const METRICS = {
  runningWorkspaces: { label: 'Running workspaces', format: (value: number) => `${value}` },
  cpus: { label: 'CPUs', format: (value: number) => `${Math.round(value * 10) / 10}` },
  memoryMiB: {
    label: 'Memory',
    format: (value: number) => `${Math.round((value / 1024) * 10) / 10} GiB`,
  },
  diskMiB: { label: 'Disk', format: (value: number) => `${Math.round(value / 1024)} GiB` },
  aiUsd: { label: 'AI spend this month', format: (value: number) => `$${value.toFixed(2)}` },
} satisfies Record<
  keyof Omit<UsagePoint, 'at'>,
  { label: string; format: (value: number) => string }
>;
export type Metric = keyof typeof METRICS;

function formatDay(time: number): string {
  return new Date(time).toLocaleString(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/**
 * Use over time, one line per person or team (the busiest few), sampled every five minutes; a
 * gap in the samples (the server was down) is a gap in the line.
 */
export function UsageChart({
  series,
  metric,
  from,
  to,
}: {
  series: UsageSeries[];
  metric: Metric;
  from: number;
  to: number;
}) {
  const { format, label } = METRICS[metric];
  const highest = Math.max(1, ...series.flatMap((line) => line.points.map((point) => point.value)));
  // Whole workspaces: an even top keeps the middle line on a whole number too.
  const top = metric === 'runningWorkspaces' ? Math.ceil(highest / 2) * 2 : highest;
  const x = (time: number) =>
    PAD.left + ((time - from) / Math.max(1, to - from)) * (WIDTH - PAD.left - PAD.right);
  const y = (value: number) => PAD.top + (1 - value / top) * (HEIGHT - PAD.top - PAD.bottom);
  const GAP_MS = 15 * 60_000;
  const path = (points: UsageSeries['points']) =>
    points
      .map((point, index) => {
        const jump = index === 0 || point.at - points[index - 1]!.at > GAP_MS;
        return `${jump ? 'M' : 'L'}${x(point.at).toFixed(1)},${y(point.value).toFixed(1)}`;
      })
      .join(' ');

  if (series.length === 0)
    return (
      <p className="rounded-md border border-dashed border-line-strong px-4 py-10 text-center text-sm text-muted">
        Nobody used any of this in the range. The server records everyone’s use every five minutes.
      </p>
    );
  return (
    <figure className="space-y-2">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        className="h-auto w-full text-muted"
        role="img"
        aria-label={`${label} over time`}
      >
        {[0, 0.5, 1].map((share) => (
          <g key={share}>
            <line
              x1={PAD.left}
              x2={WIDTH - PAD.right}
              y1={y(top * share)}
              y2={y(top * share)}
              stroke="currentColor"
              strokeOpacity={0.2}
            />
            <text
              x={PAD.left - 6}
              y={y(top * share) + 4}
              textAnchor="end"
              fontSize={11}
              fill="currentColor"
            >
              {format(top * share)}
            </text>
          </g>
        ))}
        <text x={PAD.left} y={HEIGHT - 4} fontSize={11} fill="currentColor">
          {formatDay(from)}
        </text>
        <text
          x={WIDTH - PAD.right}
          y={HEIGHT - 4}
          fontSize={11}
          textAnchor="end"
          fill="currentColor"
        >
          {formatDay(to)}
        </text>
        {series.map((line, index) => (
          <g key={line.name} stroke={COLOURS[index % COLOURS.length]}>
            <title>{line.name}</title>
            <path d={path(line.points)} fill="none" strokeWidth={2} strokeLinejoin="round" />
            {/* A lone sample (the first one, or after a gap) would be an invisible line. */}
            {line.points.length === 1 ? (
              <circle
                cx={x(line.points[0]!.at)}
                cy={y(line.points[0]!.value)}
                r={3}
                fill={COLOURS[index % COLOURS.length]}
              />
            ) : null}
          </g>
        ))}
      </svg>
      <figcaption className="flex flex-wrap gap-x-4 gap-y-1 text-[13px] text-muted">
        {series.map((line, index) => (
          <span key={line.name} className="flex items-center gap-1.5">
            <span
              aria-hidden
              className="inline-block size-2.5 rounded-full"
              style={{ background: COLOURS[index % COLOURS.length] }}
            />
            {line.name}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
