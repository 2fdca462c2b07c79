import { MonacoBinding } from 'y-monaco';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import type { monaco } from './monaco.ts';
import { peerColor } from './peer-color.ts';
import { replay } from './replay.ts';

/** The shared type holding the text; the daemon names it the same. */
const TEXT = 'content';
/** Close codes after which the document is opened afresh, or not shared at all. */
const REOPEN = 4409;

/** Someone in a shared file, as the editor shows them. */
export interface Peer {
  client: number;
  name: string;
  key: string;
  kind: 'person' | 'agent';
  color: string;
  /** Where their cursor is (1-based), when it is in this file. */
  line?: number;
}

/** What the daemon says about the file: the disk version and whether there are unsaved edits. */
interface FileState {
  generation: string;
  version: string;
  dirty: boolean;
}

interface PeerState {
  user?: { name: string; key: string; kind?: 'person' | 'agent' };
  file?: FileState;
  selection?: { head?: unknown };
}

/** A name as a CSS string: every character that could end or escape it written as a code point. */
function cssString(text: string): string {
  return `"${[...text].map((char) => (/[\w .·-]/u.test(char) ? char : `\\${char.codePointAt(0)!.toString(16)} `)).join('')}"`;
}

/**
 * A text file open in the editor as a shared document: its Monaco model bound to the Yjs
 * document the workspace's daemon holds (y-websocket over our authenticated socket), everyone's
 * cursors drawn in their colours with their names, and a reconnect that keeps what was typed
 * while the link was down. When the daemon cannot share the file (an older workspace, a big file)
 * `onUnshared` says so and the editor edits the file alone, as before.
 */
export class SharedFile {
  private doc = new Y.Doc();
  private provider: WebsocketProvider;
  private binding: MonacoBinding | null = null;
  private readonly style = document.createElement('style');
  private generation: string | undefined;
  private destroyed = false;
  /** The model's text when the editor opened it, before the document arrived. */
  private readonly opened: string;
  /** Whether the file joined its shared document (true) or is edited alone (false). */
  readonly ready: Promise<boolean>;
  private settle: (shared: boolean) => void = () => {};
  /** Synced at least once: the model shows the shared text. */
  shared = false;
  file: FileState | null = null;
  /** The daemon's state from before this editor's own text went in, while it still stands. */
  private staleFile: FileState | null = null;
  peers: Peer[] = [];
  /** Shared once, but the link to the workspace is down: edits are kept and merge on return. */
  offline = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly workspace: string,
    readonly path: string,
    private readonly model: monaco.editor.ITextModel,
    private readonly editor: monaco.editor.IStandaloneCodeEditor,
    private readonly onUnshared: (reason: string) => void,
    /**
     * The model holds a draft kept in this browser, made on this disk version: it goes into the
     * document if the document is that version with nothing unsaved (the workspace restarted
     * since); a document with unsaved edits already has them, and more, so the draft is dropped.
     */
    private draftBase: string | null = null,
  ) {
    this.opened = model.getValue();
    this.ready = new Promise((resolve) => (this.settle = resolve));
    document.head.append(this.style);
    this.provider = this.connect();
  }

  /** Called on every change of peers or the file's saved state. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private connect(): WebsocketProvider {
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const provider = new WebsocketProvider(
      `${scheme}//${window.location.host}/api/workspaces/${encodeURIComponent(this.workspace)}`,
      'collab',
      this.doc,
      {
        params: { path: this.path, ...(this.generation ? { generation: this.generation } : {}) },
        maxBackoffTime: 3000,
        // Every edit goes through the server, which knows each tab's role; no tab-to-tab shortcut.
        disableBc: true,
      },
    );
    provider.on('sync', (synced: boolean) => {
      if (synced) this.bind();
    });
    provider.on('closed', ({ code, reason }: { code: number; reason: string }) => {
      if (this.destroyed) return;
      if (code === REOPEN) this.reopen();
      else if (!this.shared) {
        provider.destroy();
        this.settle(false);
        this.onUnshared(reason);
      }
    });
    provider.on('status', ({ status }: { status: string }) => {
      const offline = this.shared && status !== 'connected';
      if (offline === this.offline) return;
      this.offline = offline;
      for (const listener of this.listeners) listener();
    });
    provider.awareness.on('change', () => this.renderPeers());
    return provider;
  }

  /** First sync (or again after a reopen): the model takes the shared text and follows it. */
  private bind(): void {
    if (this.binding || this.destroyed) return;
    const text = this.doc.getText(TEXT);
    const local = this.model.getValue();
    const file = this.fileState();
    const draftApplies = !!file && !file.dirty && file.version === this.draftBase;
    const shared = text.toString();
    if (shared !== local) {
      // Reopened (the document came back from disk), or a draft kept from before: what this
      // editor still had goes into the document as its edit. Otherwise only what was typed
      // before the document arrived goes in, moved to where it belongs in the document.
      const from = this.shared || draftApplies ? shared : this.opened;
      this.doc.transact(() => replay(text, from, local, shared));
      // Until the daemon has this editor's text, its word that the file is saved is old news.
      this.staleFile = file;
    }
    this.binding = new MonacoBinding(
      text,
      this.model,
      new Set([this.editor]),
      this.provider.awareness,
    );
    this.shared = true;
    this.draftBase = null;
    this.settle(true);
    this.renderPeers();
  }

  /** The daemon no longer has the document this editor had: open it afresh, keeping the text. */
  private reopen(): void {
    this.binding?.destroy();
    this.binding = null;
    this.provider.destroy();
    this.doc.destroy();
    this.doc = new Y.Doc();
    this.generation = undefined;
    this.provider = this.connect();
  }

  /** What the daemon's awareness state says about the file. */
  private fileState(): FileState | null {
    for (const state of this.provider.awareness.getStates().values()) {
      if ((state as PeerState).file) return (state as PeerState).file!;
    }
    return null;
  }

  private renderPeers(): void {
    const states = this.provider.awareness.getStates() as Map<number, PeerState>;
    const peers: Peer[] = [];
    let file: FileState | null = null;
    const rules: string[] = [];
    for (const [client, state] of states) {
      if (state.file) file = state.file;
      if (client === this.doc.clientID || !state.user) continue;
      const color = peerColor(state.user.key);
      const head = state.selection?.head;
      const at = head
        ? Y.createAbsolutePositionFromRelativePosition(head as Y.RelativePosition, this.doc)
        : null;
      peers.push({
        client,
        name: state.user.name,
        key: state.user.key,
        kind: state.user.kind ?? 'person',
        color,
        ...(at ? { line: this.model.getPositionAt(at.index).lineNumber } : {}),
      });
      rules.push(
        `.yRemoteSelection-${client}{background-color:color-mix(in srgb,${color} 25%,transparent)}`,
        `.yRemoteSelectionHead-${client}{position:absolute;height:100%;box-sizing:border-box;border-left:2px solid ${color}}`,
        `.yRemoteSelectionHead-${client}::after{content:${cssString(state.user.name)};position:absolute;left:-2px;top:-1.15em;padding:0 4px;border-radius:3px 3px 3px 0;background:${color};color:#fff;font:500 10px/1.15em system-ui,sans-serif;white-space:nowrap;pointer-events:none;z-index:10}`,
      );
    }
    this.style.textContent = rules.join('\n');
    if (file?.generation && file.generation !== this.generation) {
      this.generation = file.generation;
      this.provider.params = { path: this.path, generation: file.generation };
    }
    if (file !== this.staleFile) this.staleFile = null;
    this.file = this.staleFile && file ? { ...file, dirty: true } : file;
    this.peers = peers;
    for (const listener of this.listeners) listener();
  }

  destroy(): void {
    this.destroyed = true;
    this.settle(false);
    this.binding?.destroy();
    this.provider.destroy();
    this.doc.destroy();
    this.style.remove();
    this.listeners.clear();
  }
}
