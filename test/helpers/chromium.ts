import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's chromium (scripts/setup.sh installs it). */
export const CHROMIUM = '/usr/bin/chromium';

export interface OpenedPage {
  page: Page;
  /** Console errors and uncaught page errors seen since the page opened. */
  errors: string[];
  close(): Promise<void>;
}

/**
 * Opens `url` in headless Chromium with a fresh profile, no network chatter
 * (background services, QUIC, updates, sync off), collecting console errors.
 */
export async function openPage(url: string, viewport = { width: 1100, height: 900 }): Promise<OpenedPage> {
  const profile = await mkdtemp(join(tmpdir(), 'clipseek-chromium-'));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(url, { waitUntil: 'load' });
    const opened = context;
    return {
      page,
      errors,
      close: async () => {
        await opened.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await context?.close();
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
}
