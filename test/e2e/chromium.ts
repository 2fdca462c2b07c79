import { mkdir } from 'node:fs/promises';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

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

/**
 * Opens `url` and waits for `ready`. A browser on the container engine's own machine sees that
 * machine's network change as workspaces come and go, and Chromium then fails what is in flight
 * (`net::ERR_NETWORK_CHANGED`, seen here once while a workspace started): such a load is tried
 * again, twice at most, and said in the log; a page that never shows `ready` still fails.
 */
export async function openWhenReady(
  page: Page,
  url: string,
  ready: Locator,
  timeoutMs = 30_000,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const last = attempt === 3;
    try {
      await page.goto(url);
      await ready.waitFor({ timeout: last ? timeoutMs : timeoutMs / 2 });
      return;
    } catch (error) {
      if (last) throw error;
      const shown = await page
        .locator('body')
        .innerText({ timeout: 2_000 })
        .catch(() => '');
      console.warn(
        `[chromium] ${url}, attempt ${attempt}: ${(error as Error).message.split('\n')[0]}; the page showed: ${shown.slice(0, 400).replace(/\s+/g, ' ')}`,
      );
    }
  }
}

/**
 * Keeps what `page` throws and logs as errors, and returns what to call after each test: when
 * the test failed, a screenshot (`<tag>-failed-<test>.png`) and the page's text and errors in the
 * log, so a step that failed in CI says what the person would have seen.
 */
export function keepFailures(page: Page, tag: string) {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.stack ?? error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return async (task: { name: string; result?: { state?: string } }): Promise<void> => {
    if (task.result?.state !== 'fail') return;
    await page.screenshot({
      path: `${SCREENSHOTS}${tag}-failed-${task.name.slice(0, 30).replace(/\W+/g, '-')}.png`,
    });
    const text = await page
      .locator('body')
      .innerText({ timeout: 5_000 })
      .catch(() => '');
    console.error(
      `[${tag}] ${page.url()} showed:\n${text.slice(0, 2_000)}\nits errors:\n${errors.slice(-20).join('\n')}`,
    );
  };
}
