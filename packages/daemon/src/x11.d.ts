// The part of node-x11 (npm `x11`, CommonJS, no types of its own) that the daemon uses.
declare module 'x11' {
  /** A connection's requests; each answers through a Node-style callback. */
  export interface XClient {
    QueryPointer(window: number, cb: (error: unknown, reply: { child: number }) => void): void;
    GetInputFocus(cb: (error: unknown, reply: { focus: number }) => void): void;
    QueryTree(
      window: number,
      cb: (error: unknown, reply: { root: number; parent: number }) => void,
    ): void;
    InternAtom(
      onlyIfExists: boolean,
      name: string,
      cb: (error: unknown, atom: number) => void,
    ): void;
    GetAtomName(atom: number, cb: (error: unknown, name: string) => void): void;
    GetProperty(
      del: number,
      window: number,
      property: number,
      type: number,
      offset: number,
      length: number,
      cb: (error: unknown, reply: { data: Buffer; type: number }) => void,
    ): void;
    on(event: 'error', listener: (error: unknown) => void): void;
    terminate(): void;
  }

  /** An open display: the client and its screens. */
  export interface XDisplay {
    client: XClient;
    screen: Array<{ root: number }>;
  }

  const x11: {
    createClient(
      options: { display: string },
      cb: (error: unknown, display: XDisplay) => void,
    ): { on(event: 'error', listener: (error: unknown) => void): void };
  };
  export default x11;
}
