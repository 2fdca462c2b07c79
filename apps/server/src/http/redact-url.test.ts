import { describe, expect, it } from 'vitest';
import { redactUrl } from './redact-url.ts';

describe('redactUrl', () => {
  it.each([
    ['/api/invites/abc123/accept', '/api/invites/[redacted]/accept'],
    ['/setup?token=s3cret&x=1', '/setup?token=[redacted]&x=1'],
    ['/l/AAAABBBBCCCC/page?q=1', '/l/[redacted]/page?q=1'],
    ['/w/demo/p/3000/~sess.mac/app.js', '/w/demo/p/3000/~[redacted]/app.js'],
    [
      '/__preview-host/__studio/open?pass=~sess.mac&to=%2F',
      '/__preview-host/__studio/open?pass=[redacted]&to=%2F',
    ],
    ['/__studio/open?link=tok&to=/', '/__studio/open?link=[redacted]&to=/'],
    ['/api/workspaces/demo/files?path=a.txt', '/api/workspaces/demo/files?path=a.txt'],
  ])('logs %s as %s', (url, logged) => {
    expect(redactUrl(url)).toBe(logged);
  });
});
