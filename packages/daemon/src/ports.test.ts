import { describe, expect, it } from 'vitest';
import { parseProcNetTcp } from './ports.ts';

describe('parseProcNetTcp', () => {
  it('reads listening IPv4 and IPv6 sockets and skips the rest', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:0BB9 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 12346 1 0000000000000000 100 0 0 10 0',
    ].join('\n');
    expect(parseProcNetTcp(tcp, false)).toEqual([
      { port: 3000, address: '127.0.0.1', inode: '12345' },
    ]);
    const tcp6 = [
      '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 222 1 0000000000000000 100 0 0 10 0',
      '   1: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 333 1 0000000000000000 100 0 0 10 0',
    ].join('\n');
    expect(parseProcNetTcp(tcp6, true)).toEqual([
      { port: 8080, address: '::', inode: '222' },
      { port: 8081, address: '::1', inode: '333' },
    ]);
  });
});
