import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, renameSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { CollabPeer, DaemonParsedParams, DaemonResult } from '@studio/protocol';
import diff from 'fast-diff';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { DaemonFailure } from './errors.ts';
import { KEPT_FOLDER, type FileService } from './files.ts';
import { resolveInRoot } from './paths.ts';
import type { OutStream } from './streams.ts';

// y-websocket's message types; 2 (auth) is not used.
const MESSAGE_SYNC = 0;
const MESSAGE_AWARENESS = 1;
const MESSAGE_QUERY_AWARENESS = 3;
/** The shared type holding a file's text; the editor binds the same name. */
export const COLLAB_TEXT = 'content';
/** A saved document nobody has open is let go after this long (a reload comes back to it). */
const KEEP_SAVED_MS = 30_000;
/** Changes on disk from a terminal or a tool arrive in bursts; one merge per quiet period. */
const DISK_DEBOUNCE_MS = 50;
/** How often "unsaved changes" is worked out again while people type. */
const DIRTY_CHECK_MS = 250;
/** Files larger than this are edited alone (as before), not shared. */
const MAX_SHARED_BYTES = 5 * 1024 * 1024;

/** A document with unsaved edits as kept beside the home, so a workspace restart keeps them. */
interface KeptDocument {
  path: string;
  generation: string;
  /** The disk as the document last knew it. */
  version: string;
  baseText: string;
  /** Base64 Yjs updates: the document when it matched the disk, and now. */
  baseUpdate: string;
  update: string;
}

/** Unsaved documents kept as one JSON file each, named by a hash of their path. */
class KeptDocuments {
  private readonly folder: string;

  constructor(root: string) {
    this.folder = path.join(root, KEPT_FOLDER);
  }

  private fileOf(workspacePath: string): string {
    const name = createHash('sha256').update(workspacePath).digest('hex').slice(0, 32);
    return path.join(this.folder, `${name}.json`);
  }

  async load(workspacePath: string): Promise<KeptDocument | null> {
    try {
      const kept = JSON.parse(await readFile(this.fileOf(workspacePath), 'utf8')) as KeptDocument;
      return kept.path === workspacePath ? kept : null;
    } catch {
      return null;
    }
  }

  /** Written at once (temp + rename), so a daemon stopping right after still has it. */
  keep(kept: KeptDocument): void {
    try {
      mkdirSync(this.folder, { recursive: true, mode: 0o700 });
      const file = this.fileOf(kept.path);
      writeFileSync(`${file}.tmp`, JSON.stringify(kept), { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
    } catch {
      // A full or read-only disk: the edits still live in the document and the browsers' drafts.
    }
  }

  async forget(workspacePath: string): Promise<void> {
    await rm(this.fileOf(workspacePath), { force: true });
  }
}

/** What the daemon's own awareness state says about the file, for every editor to show. */
export interface CollabFileState {
  generation: string;
  /** The disk version the document was last loaded, merged or saved as. */
  version: string;
  /** The document differs from that version. */
  dirty: boolean;
}

/** One person's (or agent's) connection to a document. */
interface Peer {
  stream: OutStream;
  readOnly: boolean;
  user: CollabPeer;
  /** The awareness client ids this connection speaks for. */
  clients: Set<number>;
}

/** The text as the disk has it, as far as the document knows: the base of every merge. */
interface DiskBase {
  text: string;
  /** The document's state when it matched the disk: where a disk change is replayed from. */
  update: Uint8Array;
  version: string;
}

function message(type: number, write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, type);
  write(encoder);
  return encoding.toUint8Array(encoder);
}

/**
 * Peers joined over y-websocket's protocol to one Yjs document and its awareness: the document's
 * updates and everyone's awareness relayed to the others, a read-only peer's updates dropped,
 * every peer's awareness stamped with who the server says it is.
 */
export class Room {
  readonly doc = new Y.Doc();
  readonly awareness = new awarenessProtocol.Awareness(this.doc);
  protected readonly peers = new Set<Peer>();

  constructor() {
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      const bytes = message(MESSAGE_SYNC, (encoder) => syncProtocol.writeUpdate(encoder, update));
      for (const peer of this.peers) if (peer !== origin) peer.stream.write(bytes);
      this.changed();
    });
    this.awareness.on(
      'update',
      (
        { added, updated, removed }: Record<'added' | 'updated' | 'removed', number[]>,
        origin: unknown,
      ) => {
        const changed = [...added, ...updated, ...removed];
        if (origin && typeof origin === 'object' && this.peers.has(origin as Peer)) {
          const { clients } = origin as Peer;
          for (const id of added) clients.add(id);
          for (const id of removed) clients.delete(id);
        }
        const bytes = message(MESSAGE_AWARENESS, (encoder) =>
          encoding.writeVarUint8Array(
            encoder,
            awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed),
          ),
        );
        for (const peer of this.peers) if (peer !== origin) peer.stream.write(bytes);
      },
    );
  }

  /** The document changed (by a peer, or by the daemon). */
  protected changed(): void {}

  /** A peer left. */
  protected left(): void {}

  /** A person's (or a viewer's) editor joins: it gets the document and everyone's awareness. */
  join(stream: OutStream, user: CollabPeer, readOnly: boolean): void {
    const peer: Peer = { stream, readOnly, user, clients: new Set() };
    this.peers.add(peer);
    stream.handlers = {
      onInput: (payload) => {
        try {
          this.receive(peer, payload);
        } catch (error) {
          stream.end({
            code: 'bad_request',
            message: `Not a Yjs sync or awareness message: ${(error as Error).message}`,
          });
          this.leave(peer);
        }
      },
      onClientEnd: () => {
        stream.end();
        this.leave(peer);
      },
      onCancel: () => this.leave(peer),
    };
    stream.write(
      message(MESSAGE_SYNC, (encoder) => syncProtocol.writeSyncStep1(encoder, this.doc)),
    );
    this.sendStates(peer);
  }

  private sendStates(peer: Peer): void {
    const states = [...this.awareness.getStates().keys()];
    peer.stream.write(
      message(MESSAGE_AWARENESS, (encoder) =>
        encoding.writeVarUint8Array(
          encoder,
          awarenessProtocol.encodeAwarenessUpdate(this.awareness, states),
        ),
      ),
    );
  }

  private receive(peer: Peer, payload: Uint8Array): void {
    const decoder = decoding.createDecoder(payload);
    const type = decoding.readVarUint(decoder);
    if (type === MESSAGE_SYNC) {
      const kind = decoding.readVarUint(decoder);
      if (kind === syncProtocol.messageYjsSyncStep1) {
        const stateVector = decoding.readVarUint8Array(decoder);
        peer.stream.write(
          message(MESSAGE_SYNC, (encoder) =>
            syncProtocol.writeSyncStep2(encoder, this.doc, stateVector),
          ),
        );
      } else if (
        kind === syncProtocol.messageYjsSyncStep2 ||
        kind === syncProtocol.messageYjsUpdate
      ) {
        // A viewer's edits go nowhere, whatever their page lets them do.
        if (!peer.readOnly) Y.applyUpdate(this.doc, decoding.readVarUint8Array(decoder), peer);
      } else throw new Error(`unknown sync message ${kind}`);
    } else if (type === MESSAGE_AWARENESS) {
      const update = this.stamped(peer, decoding.readVarUint8Array(decoder));
      if (update) awarenessProtocol.applyAwarenessUpdate(this.awareness, update, peer);
    } else if (type === MESSAGE_QUERY_AWARENESS) {
      this.sendStates(peer);
    } else throw new Error(`unknown message type ${type}`);
  }

  /**
   * A peer's awareness update, keeping only the clients it speaks for (new ones, or its own),
   * with `user` set to who the server says it is (nobody shows as someone else, or moves or
   * removes another's cursor), without `file` (the daemon's own word on the file), and with the
   * daemon's own clock.
   */
  private stamped(peer: Peer, update: Uint8Array): Uint8Array | null {
    const decoder = decoding.createDecoder(update);
    const encoder = encoding.createEncoder();
    const count = decoding.readVarUint(decoder);
    const kept: [number, number, string][] = [];
    for (let i = 0; i < count; i++) {
      const client = decoding.readVarUint(decoder);
      decoding.readVarUint(decoder); // The peer's clock: see below.
      const state = JSON.parse(decoding.readVarString(decoder)) as Record<string, unknown> | null;
      const owned = peer.clients.has(client) || !this.awareness.meta.has(client);
      if (!owned) continue;
      const { file: _file, ...own } = state ?? {};
      // One connection's updates arrive in order, so each is newer than the last: counted here,
      // a peer's first state (clock 0) and its state after a reconnect are never taken as stale.
      const clock = (this.awareness.meta.get(client)?.clock ?? 0) + 1;
      kept.push([
        client,
        clock,
        JSON.stringify(state === null ? null : { ...own, user: peer.user }),
      ]);
    }
    if (kept.length === 0) return null;
    encoding.writeVarUint(encoder, kept.length);
    for (const [client, clock, state] of kept) {
      encoding.writeVarUint(encoder, client);
      encoding.writeVarUint(encoder, clock);
      encoding.writeVarString(encoder, state);
    }
    return encoding.toUint8Array(encoder);
  }

  private leave(peer: Peer): void {
    if (!this.peers.delete(peer)) return;
    awarenessProtocol.removeAwarenessStates(this.awareness, [...peer.clients], 'left');
    this.left();
  }

  /** End every peer's stream and let the document go. */
  protected destroy(): void {
    for (const peer of this.peers) peer.stream.end();
    this.peers.clear();
    this.awareness.destroy();
    this.doc.destroy();
  }
}

/**
 * Who is where in a workspace, for everyone in its IDE: an awareness-only room (nobody writes its
 * document), each peer saying which file and line it is at.
 */
export class PresenceRoom extends Room {
  override join(stream: OutStream, user: CollabPeer): void {
    super.join(stream, user, true);
  }

  private closed = false;

  close(): void {
    if (!this.closed) this.destroy();
    this.closed = true;
  }
}

/**
 * One text file shared by everyone who has it open: a Yjs document, the peers' awareness
 * (cursors, names), and the disk. The disk stays the truth between sessions: the document is
 * loaded from it, written back on save, and a change made on disk meanwhile (a terminal, a tool,
 * an agent) is merged in as a concurrent edit — replayed on the document as it was when it last
 * matched the disk, so it lands beside the edits in flight instead of over them.
 */
export class SharedDocument extends Room {
  readonly text = this.doc.getText(COLLAB_TEXT);
  readonly generation: string;
  /** Agents' awareness: a client id and clock each, so repeated edits move one cursor. */
  private readonly agents = new Map<string, { client: number; clock: number }>();
  private base: DiskBase;
  private dirty = false;
  private dirtyTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private diskTimer: NodeJS.Timeout | null = null;
  private kept = false;
  private readonly watcher: FSWatcher | null;
  private closed = false;
  /**
   * Writes of this daemon's own in flight (a save, the files API): the watcher's reads wait for
   * them, so a write is merged once, by the writer, in its author's name — never first as an
   * anonymous disk change because the watcher fired before the write was merged.
   */
  private writes = 0;
  private diskMissed = false;

  constructor(
    /** The file as the workspace names it. */
    readonly path: string,
    private readonly target: string,
    /** The file as read from disk, or the document kept with its unsaved edits. */
    initial: { content: string; version: string } | KeptDocument,
    private readonly files: FileService,
    private readonly store: KeptDocuments,
    private readonly onClose: () => void,
  ) {
    super();
    if ('update' in initial) {
      Y.applyUpdate(this.doc, Buffer.from(initial.update, 'base64'));
      this.generation = initial.generation;
      this.base = {
        text: initial.baseText,
        update: Buffer.from(initial.baseUpdate, 'base64'),
        version: initial.version,
      };
      this.kept = true;
      this.dirty = this.text.toString() !== this.base.text;
    } else {
      this.text.insert(0, initial.content);
      this.generation = randomUUID();
      this.base = {
        text: initial.content,
        update: Y.encodeStateAsUpdate(this.doc),
        version: initial.version,
      };
    }
    this.checkDirty();
    this.watcher = this.watchDisk();
  }

  get fileState(): CollabFileState {
    return { generation: this.generation, version: this.base.version, dirty: this.dirty };
  }

  override join(stream: OutStream, user: CollabPeer, readOnly: boolean): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    super.join(stream, user, readOnly);
  }

  protected override changed(): void {
    // (The first text goes in before there is a base to compare with.) The first edit after a
    // save is said at once, so no editor takes the document for saved meanwhile; later ones are
    // worked out a few times a second.
    if (!this.base) return;
    if (this.dirty) this.scheduleDirtyCheck();
    else this.checkDirty();
  }

  protected override left(): void {
    this.maybeIdle();
  }

  /** With nobody in it and nothing unsaved, the document goes after a while. */
  private maybeIdle(): void {
    if (this.peers.size > 0 || this.dirty || this.idleTimer || this.closed) return;
    this.idleTimer = setTimeout(() => this.close(), KEEP_SAVED_MS);
    this.idleTimer.unref();
  }

  /** Write the document's text to its file: anyone's Ctrl+S. */
  save(): Promise<{ version: string; size: number }> {
    return this.whileWriting(async () => {
      const text = this.text.toString();
      const update = Y.encodeStateAsUpdate(this.doc);
      const written = await this.files.write({
        path: this.path,
        content: text,
        encoding: 'utf8',
        createParents: false,
      });
      this.base = { text, update, version: written.version };
      this.checkDirty();
      return written;
    });
  }

  /** Run one of this daemon's writes to the file, holding the watcher's reads until it is done. */
  async whileWriting<T>(write: () => Promise<T>): Promise<T> {
    this.writes += 1;
    try {
      return await write();
    } finally {
      this.writes -= 1;
      if (this.writes === 0 && this.diskMissed) {
        this.diskMissed = false;
        this.scheduleDiskRead();
      }
    }
  }

  /**
   * The file on disk now holds `text` (written by a tool, a terminal, an agent): merge the
   * change since the last known disk text into the document. With `author`, the change shows
   * as theirs, with a cursor where it ended.
   */
  mergeDisk(text: string, version: string, author?: CollabPeer): void {
    if (text === this.base.text) {
      this.base.version = version;
      return this.checkDirty();
    }
    const fork = new Y.Doc();
    Y.applyUpdate(fork, this.base.update);
    const forkText = fork.getText(COLLAB_TEXT);
    const before = Y.encodeStateVector(fork);
    let index = 0;
    let last = 0;
    fork.transact(() => {
      for (const [op, part] of diff(this.base.text, text)) {
        if (op === diff.EQUAL) index += part.length;
        else if (op === diff.DELETE) {
          forkText.delete(index, part.length);
          last = index;
        } else {
          forkText.insert(index, part);
          index += part.length;
          last = index;
        }
      }
    });
    Y.applyUpdate(this.doc, Y.encodeStateAsUpdate(fork, before), author ?? 'disk');
    this.base = { text, update: Y.encodeStateAsUpdate(fork), version };
    if (author) this.showAgent(author, Y.createRelativePositionFromTypeIndex(forkText, last));
    fork.destroy();
    this.checkDirty();
  }

  /** An agent's cursor where its edit ended; it fades like any peer that stops (30 s). */
  private showAgent(author: CollabPeer, at: Y.RelativePosition): void {
    const agent = this.agents.get(author.key) ?? { client: randomClientId(), clock: 0 };
    agent.clock += 1;
    this.agents.set(author.key, agent);
    const position = Y.relativePositionToJSON(at) as unknown;
    const state = { user: author, selection: { anchor: position, head: position } };
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarUint(encoder, agent.client);
    encoding.writeVarUint(encoder, agent.clock);
    encoding.writeVarString(encoder, JSON.stringify(state));
    awarenessProtocol.applyAwarenessUpdate(this.awareness, encoding.toUint8Array(encoder), 'agent');
  }

  private watchDisk(): FSWatcher | null {
    const name = path.basename(this.target);
    try {
      // The folder, not the file: atomic writes replace the file, and a file watch would go deaf.
      const watcher = watch(path.dirname(this.target), { persistent: false }, (_event, changed) => {
        if (changed === name) this.scheduleDiskRead();
      });
      watcher.on('error', () => undefined);
      return watcher;
    } catch {
      return null;
    }
  }

  private scheduleDiskRead(): void {
    if (this.diskTimer) clearTimeout(this.diskTimer);
    this.diskTimer = setTimeout(() => void this.readDisk(), DISK_DEBOUNCE_MS);
  }

  private async readDisk(): Promise<void> {
    if (this.closed) return;
    // (Checked before and after the read: a write may begin while it reads.)
    if (this.writes > 0) return void (this.diskMissed = true);
    try {
      const read = await this.files.read({ path: this.path, maxBytes: MAX_SHARED_BYTES });
      if (this.writes > 0) return void (this.diskMissed = true);
      if (!read.binary && !this.closed) this.mergeDisk(read.content, read.version);
    } catch {
      // Deleted or replaced by something else: the document keeps the text; a save writes it back.
    }
  }

  private scheduleDirtyCheck(): void {
    if (this.dirtyTimer) return;
    this.dirtyTimer = setTimeout(() => this.checkDirty(), DIRTY_CHECK_MS);
  }

  private checkDirty(): void {
    if (this.dirtyTimer) clearTimeout(this.dirtyTimer);
    this.dirtyTimer = null;
    const dirty = this.text.toString() !== this.base.text;
    const changed = dirty !== this.dirty;
    this.dirty = dirty;
    this.publish();
    if (!dirty && this.kept) {
      this.kept = false;
      void this.store.forget(this.path);
    }
    if (changed && !dirty) this.maybeIdle();
  }

  /**
   * Put the unsaved document beside the home, where a restarted workspace finds it: when the
   * daemon stops (not while people type, which would stir the home's file watch every second).
   * A daemon killed outright loses it; the editors' drafts bring it back then.
   */
  private keep(): void {
    if (!this.dirty) return;
    this.store.keep({
      path: this.path,
      generation: this.generation,
      version: this.base.version,
      baseText: this.base.text,
      baseUpdate: Buffer.from(this.base.update).toString('base64'),
      update: Buffer.from(Y.encodeStateAsUpdate(this.doc)).toString('base64'),
    });
    this.kept = true;
  }

  /** The daemon's own awareness state: the file's version and whether it has unsaved edits. */
  private publish(): void {
    const current = this.awareness.getLocalState() as { file?: CollabFileState } | null;
    const file = this.fileState;
    if (
      current?.file?.version === file.version &&
      current.file.dirty === file.dirty &&
      current.file.generation === file.generation
    )
      return;
    this.awareness.setLocalState({ file });
  }

  close(): void {
    if (this.closed) return;
    if (this.dirtyTimer) this.checkDirty();
    if (this.dirty) this.keep();
    this.closed = true;
    for (const timer of [this.dirtyTimer, this.idleTimer, this.diskTimer]) {
      if (timer) clearTimeout(timer);
    }
    this.watcher?.close();
    this.destroy();
    this.onClose();
  }
}

function randomClientId(): number {
  return Math.floor(Math.random() * 0xffffffff);
}

/** The shared documents of one workspace, by file. */
export class CollabService {
  private readonly documents = new Map<string, Promise<SharedDocument>>();
  private readonly store: KeptDocuments;
  /** Who is where in the workspace's IDE. */
  private readonly presence = new PresenceRoom();

  constructor(
    private readonly root: string,
    private readonly files: FileService,
  ) {
    this.store = new KeptDocuments(root);
  }

  /** Join `stream` to the file's shared document, loading it from disk if nobody has it open. */
  async open(params: DaemonParsedParams<'collab.open'>, stream: OutStream): Promise<void> {
    const document = await this.document(params.path, true);
    if (params.generation && params.generation !== document.generation) {
      throw new DaemonFailure(
        'conflict',
        `"${params.path}" was reopened since this editor last had it; start over from it`,
        { generation: document.generation },
      );
    }
    document.join(stream, params.user, params.readOnly);
  }

  /** Join `stream` to the workspace's presence: which file and line each person is at. */
  joinPresence(params: DaemonParsedParams<'presence.open'>, stream: OutStream): void {
    this.presence.join(stream, params.user);
  }

  async save(
    params: DaemonParsedParams<'collab.save'>,
  ): Promise<{ version: string; size: number }> {
    const document = await this.document(params.path, false);
    if (!document) throw new DaemonFailure('not_found', `"${params.path}" is not open`);
    return document.save();
  }

  /**
   * A write through the files API: an open document takes it in as a concurrent edit, shown as
   * its author's (an agent's cursor) — the file watcher holds off until it has.
   */
  async write(
    params: DaemonParsedParams<'files.write'>,
    write: () => Promise<DaemonResult<'files.write'>>,
  ): Promise<DaemonResult<'files.write'>> {
    const target =
      params.encoding === 'utf8'
        ? await resolveInRoot(this.root, params.path).catch(() => null)
        : null;
    const document = target ? await this.documents.get(target)?.catch(() => null) : null;
    if (!document) return write();
    return document.whileWriting(async () => {
      const written = await write();
      document.mergeDisk(params.content, written.version, params.author);
      return written;
    });
  }

  /** The open documents (for tests and the daemon's info). */
  async openDocuments(): Promise<SharedDocument[]> {
    return Promise.all(this.documents.values());
  }

  closeAll(): void {
    this.presence.close();
    for (const pending of this.documents.values())
      void pending.then((document) => document.close());
  }

  private async document(workspacePath: string, load: true): Promise<SharedDocument>;
  private async document(workspacePath: string, load: false): Promise<SharedDocument | null>;
  private async document(workspacePath: string, load: boolean): Promise<SharedDocument | null> {
    const target = await resolveInRoot(this.root, workspacePath);
    const existing = this.documents.get(target);
    if (existing || !load) return existing ?? null;
    const loading = (async () => {
      const read = await this.files.read({ path: workspacePath, maxBytes: MAX_SHARED_BYTES });
      if (read.binary) {
        throw new DaemonFailure('bad_request', `"${workspacePath}" is not a text file`);
      }
      // Unsaved edits from before the workspace restarted come back, with what changed on disk
      // since merged in.
      const kept = await this.store.load(workspacePath);
      const document = new SharedDocument(
        workspacePath,
        target,
        kept ?? read,
        this.files,
        this.store,
        () => this.documents.delete(target),
      );
      if (kept && kept.version !== read.version) document.mergeDisk(read.content, read.version);
      return document;
    })();
    this.documents.set(target, loading);
    loading.catch(() => this.documents.delete(target));
    return loading;
  }
}
