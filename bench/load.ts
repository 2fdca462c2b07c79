// HTTP load with autocannon, with latency percentiles computed from exact per-response times.
import autocannon from 'autocannon';

/** What one load run measured. */
export interface LoadResult {
  p50Ms: number;
  p99Ms: number;
  rps: number;
  ok: number;
  non2xx: number;
  errors: number;
}

/** Load options. */
export interface LoadOptions {
  url: string;
  headers?: Record<string, string>;
  seconds: number;
  connections: number;
}

/** Runs autocannon for `seconds` and summarizes the 2xx responses. */
export function load(options: LoadOptions): Promise<LoadResult> {
  // autocannon's own histogram stores whole milliseconds, which rounds a sub-millisecond
  // baseline to 0 or 1 ms and makes ratios meaningless; keep each response's exact time instead.
  const times: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        headers: options.headers ?? {},
        connections: options.connections,
        duration: options.seconds,
      },
      (error: unknown, result) => {
        if (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        times.sort((a, b) => a - b);
        resolve({
          p50Ms: percentile(times, 0.5),
          p99Ms: percentile(times, 0.99),
          // Only successful answers count as throughput; result.duration is the real run time in s.
          rps: result['2xx'] / (result.duration || options.seconds),
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) times.push(responseTime);
    });
  });
}

/** Nearest-rank percentile of sorted values; NaN when there are none. */
function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}
