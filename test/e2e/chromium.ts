import { mkdir } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';

/** Where browser tests put their screenshots. */
export const SCREENSHOTS = new URL('../../test-results/', import.meta.url).pathname;

/** Debian's chromium, headless, with nothing reaching past 127.0.0.1 (the machine is offline). */
export async function launchChromium(): Promise<Browser> {
  await mkdir(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Subdomain previews' hosts (`p<port>-<id>.localhost`) are this machine too.
      '--host-resolver-rules=MAP *.localhost 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ],
  });
}
