import type { DatabaseBus } from '@studio/db';

const CHANNEL = 'studio_principals';

/** What may be forgotten: one token, or everything of one person. */
type Forget = { tokenId: string } | { userId: string };

interface Entry<T> {
  value: T;
  userId: string;
  tokenId: string;
  until: number;
}

/**
 * Who an API token belongs to, remembered for a short while so a request with a token costs no
 * query. Whatever changes what a token may do (revoking it, changing or disabling its person)
 * forgets it here at once and on every other replica through the database's bus; a notification
 * lost while the bus reconnected clears everything, and the time to live bounds anything else
 * (a row changed by hand).
 */
export class PrincipalCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private unsubscribe: (() => Promise<void>) | null = null;

  constructor(
    private readonly bus: DatabaseBus,
    private readonly options: { ttlMs: number; maxEntries: number; now?: () => number },
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.bus.subscribe(
      CHANNEL,
      (payload) => this.drop(JSON.parse(payload) as Forget),
      () => this.entries.clear(),
    );
  }

  async close(): Promise<void> {
    await this.unsubscribe?.().catch(() => {});
    this.unsubscribe = null;
    this.entries.clear();
  }

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: T, owner: { userId: string; tokenId: string }): void {
    // Without a bus to hear revocations on, nothing is remembered.
    if (!this.unsubscribe) return;
    if (this.entries.size >= this.options.maxEntries) {
      // The oldest goes first (a Map keeps insertion order).
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { value, ...owner, until: this.now() + this.options.ttlMs });
  }

  /** Forget here before answering, and tell the other replicas. */
  async forget(which: Forget): Promise<void> {
    this.drop(which);
    await this.bus.publish(CHANNEL, JSON.stringify(which));
  }

  private drop(which: Forget): void {
    for (const [key, entry] of this.entries) {
      if ('tokenId' in which ? entry.tokenId === which.tokenId : entry.userId === which.userId)
        this.entries.delete(key);
    }
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }
}
