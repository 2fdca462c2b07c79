import { mkdtemp, readFile, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeFrame, type CollabPeer } from '@studio/protocol';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { COLLAB_TEXT, CollabService, type CollabFileState } from './collab.ts';
import { FileService, KEPT_FOLDER } from './files.ts';
import { OutStream } from './streams.ts';
import { startWatch } from './watch.ts';

let root: string;
let files: FileService;
let service: CollabService;

beforeAll(async () => {
  root = await realpath(await mkdtemp(path.join(tmpdir(), 'studio-collab-')));
  files = new FileService(root);
});
afterEach(() => service?.closeAll());
afterAll(() => rm(root, { recursive: true, force: true }));

const ada: CollabPeer = { name: 'Ada', key: 'user-ada', kind: 'person' };
const bob: CollabPeer = { name: 'Bob', key: 'user-bob', kind: 'person' };

/**
 * An editor as y-websocket's provider is one: a Y.Doc and its awareness speaking the sync and
 * awareness protocol to the daemon over a real stream (frames delivered at once, in process).
 */
async function connect(
  file: string | null,
  user: CollabPeer,
  options: { readOnly?: boolean } = {},
) {
  const doc = new Y.Doc();
  const awareness = new awarenessProtocol.Awareness(doc);
  let stream: OutStream | null = null;
  let ended = false;
  const send = (write: (encoder: encoding.Encoder) => void) => {
    const encoder = encoding.createEncoder();
    write(encoder);
    stream?.handlers.onInput?.(encoding.toUint8Array(encoder), 0);
  };
  const receive = (payload: Uint8Array) => {
    const decoder = decoding.createDecoder(payload);
    const type = decoding.readVarUint(decoder);
    if (type === 0) {
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, 0);
      syncProtocol.readSyncMessage(decoder, encoder, doc, 'daemon');
      if (encoding.length(encoder) > 1)
        stream?.handlers.onInput?.(encoding.toUint8Array(encoder), 0);
    } else if (type === 1) {
      awarenessProtocol.applyAwarenessUpdate(
        awareness,
        decoding.readVarUint8Array(decoder),
        'daemon',
      );
    }
  };
  stream = new OutStream(
    1,
    {
      sendBinary: (frame) => receive(decodeFrame(frame)!.payload),
      sendMessage: (message) => {
        if (message.type === 'end') ended = true;
      },
      pauseInput: () => undefined,
      resumeInput: () => undefined,
    },
    () => undefined,
    1 << 30,
  );
  // No file: the workspace's presence room.
  if (file === null) service.joinPresence({ user }, stream);
  else await service.open({ path: file, readOnly: options.readOnly ?? false, user }, stream);
  doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin === 'daemon') return;
    send((encoder) => {
      encoding.writeVarUint(encoder, 0);
      syncProtocol.writeUpdate(encoder, update);
    });
  });
  awareness.on(
    'update',
    ({ added, updated, removed }: Record<string, number[]>, origin: unknown) => {
      if (origin === 'daemon') return;
      send((encoder) => {
        encoding.writeVarUint(encoder, 1);
        encoding.writeVarUint8Array(
          encoder,
          awarenessProtocol.encodeAwarenessUpdate(awareness, [...added!, ...updated!, ...removed!]),
        );
      });
    },
  );
  stream.start();
  send((encoder) => {
    encoding.writeVarUint(encoder, 0);
    syncProtocol.writeSyncStep1(encoder, doc);
  });
  // As y-websocket does on open: its first state, clock 0.
  send((encoder) => {
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarUint8Array(
      encoder,
      awarenessProtocol.encodeAwarenessUpdate(awareness, [doc.clientID]),
    );
  });
  const text = doc.getText(COLLAB_TEXT);
  return {
    doc,
    text,
    awareness,
    get ended() {
      return ended;
    },
    value: () => text.toString(),
    /** The daemon's word on the file: its version and whether it is unsaved. */
    file: () =>
      [...awareness.getStates().values()].find((state) => state.file)?.file as
        CollabFileState | undefined,
    users: () =>
      [...awareness.getStates().entries()]
        .filter(([client, state]) => client !== doc.clientID && state.user)
        .map(([, state]) => (state.user as CollabPeer).name)
        .sort(),
    leave: () => stream.cancel(),
  };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('shared documents', () => {
  it('two editors typing at the same place converge, and a save writes what both see', async () => {
    service = new CollabService(root, files);
    await writeFile(path.join(root, 'a.txt'), 'hello\n');
    const a = await connect('a.txt', ada);
    const b = await connect('a.txt', bob);
    expect(a.value()).toBe('hello\n');
    expect(b.value()).toBe('hello\n');
    for (let i = 0; i < 50; i++) {
      a.text.insert(5, 'a');
      b.text.insert(5, 'b');
    }
    expect(a.value()).toBe(b.value());
    expect(a.value().match(/a/g)).toHaveLength(50);
    expect(a.value().match(/b/g)).toHaveLength(50);
    await until(() => a.file()?.dirty === true, 'unsaved');

    const saved = await service.save({ path: 'a.txt' });
    expect(await readFile(path.join(root, 'a.txt'), 'utf8')).toBe(a.value());
    await until(() => b.file()?.dirty === false && b.file()?.version === saved.version, 'saved');
  });

  it('merges a change made on disk into the edits in flight', async () => {
    service = new CollabService(root, files);
    await writeFile(path.join(root, 'b.txt'), 'one\ntwo\nthree\n');
    const a = await connect('b.txt', ada);
    a.text.insert(0, '// mine\n');
    // A terminal appends a line while the edit above is unsaved.
    await writeFile(path.join(root, 'b.txt'), 'one\ntwo\nthree\nfour\n');
    await until(() => a.value().endsWith('four\n'), 'the disk change');
    expect(a.value()).toBe('// mine\none\ntwo\nthree\nfour\n');
    expect(a.file()?.dirty).toBe(true);
  });

  it("an agent's write lands as a peer's edit, beside a person's typing, with its cursor", async () => {
    service = new CollabService(root, files);
    await writeFile(path.join(root, 'c.py'), 'def f():\n    return 1\n');
    const a = await connect('c.py', ada);
    a.text.insert(0, '# typed\n');
    const agent: CollabPeer = { name: 'Agent · fix the tests', key: 'run-1', kind: 'agent' };
    const content = 'def f():\n    return 2\n';
    const params = { path: 'c.py', content, encoding: 'utf8', createParents: false, author: agent };
    // A busy machine: the file watcher sees the new file well before the write is merged.
    await service.write({ ...params, encoding: 'utf8' }, async () => {
      const written = await files.write({ ...params, encoding: 'utf8' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      return written;
    });
    expect(a.value()).toBe('# typed\ndef f():\n    return 2\n');
    await until(() => a.users().includes('Agent · fix the tests'), "the agent's cursor");
  });

  it("drops a viewer's edits and stamps every peer with who the server says it is", async () => {
    service = new CollabService(root, files);
    await writeFile(path.join(root, 'd.txt'), 'read me\n');
    const a = await connect('d.txt', ada);
    const viewer = await connect('d.txt', bob, { readOnly: true });
    viewer.text.insert(0, 'vandal ');
    viewer.awareness.setLocalStateField('user', { name: 'Ada', key: 'user-ada' });
    await until(() => a.users().length === 1, "the viewer's presence");
    await until(() => viewer.users().length === 1, "the editor's presence (its first state)");
    expect(viewer.users()).toEqual(['Ada']);
    expect(a.value()).toBe('read me\n');
    expect(a.users()).toEqual(['Bob']);
    viewer.leave();
    await until(() => a.users().length === 0, 'the viewer leaving');
  });

  it('keeps unsaved edits through a daemon restart, with what changed on disk meanwhile', async () => {
    service = new CollabService(root, files);
    await writeFile(path.join(root, 'kept.txt'), 'first\nlast\n');
    const before = await connect('kept.txt', ada);
    before.text.insert(6, 'unsaved\n');
    const generation = before.file()!.generation;
    service.closeAll(); // as the daemon does when it stops
    await until(() => before.ended, 'the document closing');
    // While the workspace was down, something appended to the file.
    await writeFile(path.join(root, 'kept.txt'), 'first\nlast\nappended\n');

    service = new CollabService(root, files);
    const after = await connect('kept.txt', bob);
    expect(after.value()).toBe('first\nunsaved\nlast\nappended\n');
    await until(() => after.file()?.dirty === true, 'unsaved');
    // The same document: an editor that had it reconnects without starting over.
    expect(after.file()!.generation).toBe(generation);
    await service.save({ path: 'kept.txt' });
    await until(() => after.file()?.dirty === false, 'saved');
    // Saved, it is no longer kept (other tests' unsaved documents are).
    const keptPaths = async () => {
      const folder = path.join(root, KEPT_FOLDER);
      const names = await readdir(folder);
      return Promise.all(
        // (One may go between the listing and the reading: it is being forgotten.)
        names.map(async (name) =>
          readFile(path.join(folder, name), 'utf8').then(
            (text) => (JSON.parse(text) as { path: string }).path,
            () => null,
          ),
        ),
      );
    };
    expect(await keptPaths()).toContain('b.txt');
    await expect.poll(keptPaths).not.toContain('kept.txt');
  });

  it("keeps its own bookkeeping out of the home's file watch", async () => {
    service = new CollabService(root, files);
    const reported: string[] = [];
    const watch = new OutStream(
      9,
      {
        sendBinary() {},
        sendMessage: (message) => {
          if (message.type === 'event' && message.event.kind === 'changes')
            reported.push(...message.event.changes.map((change) => change.path));
        },
        pauseInput() {},
        resumeInput() {},
      },
      () => undefined,
    );
    const stop = await startWatch(root, '.', watch);
    watch.start();
    await writeFile(path.join(root, 'watched.txt'), 'one\n');
    const a = await connect('watched.txt', ada);
    a.text.insert(0, 'unsaved ');
    service.closeAll(); // keeps the unsaved document at once
    await writeFile(path.join(root, 'after.txt'), 'a file of the person\n');
    await until(() => reported.includes('after.txt'), 'the watch');
    stop();
    expect(reported.filter((changed) => changed.startsWith('.local'))).toEqual([]);
    expect(await readdir(path.join(root, KEPT_FOLDER))).not.toEqual([]);
  });

  it("tells everyone in the workspace's IDE which file each person is in, by their own name", async () => {
    service = new CollabService(root, files);
    const a = await connect(null, ada);
    const b = await connect(null, bob);
    a.awareness.setLocalStateField('at', { path: 'src/main.py' });
    b.awareness.setLocalStateField('user', { name: 'Ada', key: 'user-ada' });
    b.awareness.setLocalStateField('at', { path: 'README.md' });
    const where = (peer: typeof a) =>
      [...peer.awareness.getStates().entries()]
        .filter(([client]) => client !== peer.doc.clientID)
        .map(
          ([, state]) =>
            `${(state.user as CollabPeer).name} ${(state.at as { path: string }).path}`,
        );
    await until(() => where(a).length === 1 && where(b).length === 1, 'both present');
    await until(() => where(a)[0] === 'Bob README.md', "Bob's place");
    expect(where(b)).toEqual(['Ada src/main.py']);
    // Nobody writes the room's document.
    b.doc.getText('x').insert(0, 'nothing');
    expect(a.doc.getText('x').toString()).toBe('');
  });

  it('refuses an editor coming back to a document that is gone, naming the new one', async () => {
    service = new CollabService(root, files);
    await writeFile(path.join(root, 'e.txt'), 'x');
    const a = await connect('e.txt', ada);
    const generation = a.file()!.generation;
    await expect(
      service.open(
        { path: 'e.txt', readOnly: false, user: ada, generation: 'another' },
        new OutStream(
          2,
          { sendBinary() {}, sendMessage() {}, pauseInput() {}, resumeInput() {} },
          () => undefined,
        ),
      ),
    ).rejects.toMatchObject({ code: 'conflict', detail: { generation } });
  });
});
