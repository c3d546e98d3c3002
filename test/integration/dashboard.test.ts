import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFleet } from '../../src/core/fleet.ts';
import { fleetDeps } from '../../src/wire.ts';
import { envs, envsOk } from '../support/cli.ts';
import { images } from '../support/images.ts';
import { type Fixture, useRepo } from '../support/repo.ts';
import { snapshot } from '../support/snapshot.ts';

/**
 * The dashboard in a real browser (Debian's chromium through playwright-core), served by the real router
 * (`envs proxy start`), over two real envs made by the CLI. Chromium resolves *.localhost to loopback itself,
 * so the page and the previews are loaded by their real names.
 */

const files = {
  'compose.yaml': `services:
  web:
    image: ${images.busybox}
    init: true
    command: ["sh", "-c", "echo hello-from-dashboard-test; mkdir -p /srv && echo ok > /srv/index.html && exec httpd -f -p 80 -h /srv"]
    ports:
      - "8080:80"
`,
  '.gitignore': 'node_modules/\n',
};

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The accessible name of the focused element (run in the page; this file has no DOM types). */
const FOCUSED = "document.activeElement && document.activeElement.getAttribute('aria-label')";

interface Env {
  name: string;
  branch: string;
  worktree: string;
  urls: Record<string, string>;
  project: string;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A port nobody listens on now (for the router). */
async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the dashboard in a browser', () => {
  const fx: Fixture = useRepo(files, 'dash');
  let one: Env;
  let two: Env;
  let repoId = '';
  let evil: Server;
  let port = 0;
  let evilPort = 0;
  let browser: BrowserContext;
  let profile = '';
  let page: Page;

  /** The router on a port of its own (the suite's CLI runs start none unless told: ENVS_PROXY=off). */
  const routed = () => ({ ENVS_PROXY: 'on', ENVS_PROXY_PORT: String(port) });

  beforeAll(async () => {
    port = await freePort();
    await envsOk(fx.repo, fx.home, ['proxy', 'start', '--json'], routed());
    [one, two] = (await Promise.all(['feat/one', 'feat/two'].map((b) => envsOk(fx.repo, fx.home, ['create', b, '--json'], routed())))).map(
      (r) => r.json as Env,
    ) as [Env, Env];
    repoId = one.project.replace(/^envs-/, '').replace(`-${one.name}`, '');
    // Work destroy would lose: an untracked file in feat/two's worktree.
    await writeFile(join(two.worktree, 'notes.txt'), 'unsaved thoughts\n');

    // Another site open in the same browser, trying to destroy feat/one without the token it cannot read.
    evil = createServer((_req, res) => {
      const target = `http://envs.localhost:${port}/api/envs/${repoId}/${one.name}/destroy`;
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>evil</title>
<iframe name="sink"></iframe>
<form id="f" method="POST" action="${target}" target="sink" enctype="text/plain"><input name='{"confirm":"${one.name}","x":"' value='"}'></form>
<script>
  fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', body: JSON.stringify({ confirm: ${JSON.stringify(one.name)} }) })
    .then(() => { document.title = 'fetched'; document.getElementById('f').submit(); }, () => { document.title = 'fetch failed'; });
</script>`);
    });
    evilPort = await listen(evil);

    profile = await mkdtemp(join(tmpdir(), 'envs-chromium-'));
    browser = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await rm(profile, { recursive: true, force: true });
    evil?.close();
    await Promise.all(['feat/one', 'feat/two'].map((b) => envs(fx.repo, fx.home, ['destroy', b, '--force'])));
    if (fx.home) await envs(fx.repo, fx.home, ['proxy', 'stop'], routed());
  });

  it('lists both envs with their preview links, and shows one env with its logs a click away', async () => {
    await page.goto(`http://envs.localhost:${port}/`);
    for (const env of [one, two]) {
      const row = page.locator(`tr[data-env="${repoId}/${env.name}"]`);
      await expect.poll(() => row.count(), { timeout: 15_000 }).toBe(1);
      await expect.poll(() => row.locator('.badge').first().textContent(), { timeout: 15_000 }).toBe('running');
      expect(await row.getByRole('link', { name: env.branch }).getAttribute('href')).toBe(`/env/${repoId}/${env.name}`);
      // The preview link is the router's, on the env's own name (create made it with the router's port).
      expect(env.urls.web).toBe(`http://${env.name}.localhost:${port}`);
      expect(await row.locator(`a[href="${env.urls.web}"]`).count()).toBe(1);
    }
    const dir = join(process.cwd(), 'test-results');
    await mkdir(dir, { recursive: true });
    const listShot = join(dir, 'dashboard-list.png');
    await page.screenshot({ path: listShot, fullPage: true });
    console.log(`dashboard screenshot: ${listShot}`);
    // What one uncached fleet read costs (the page polls every 2 s; reads are cached 1.5 s): printed, not asserted.
    const deps = fleetDeps(fx.home, { ...process.env, ENVS_HOME: fx.home, ENVS_PROXY_PORT: String(port) });
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      expect((await readFleet(deps)).envs).toHaveLength(2);
      times.push(performance.now() - started);
    }
    console.log(
      `fleet read, 2 envs: median ${times.sort((a, b) => a - b)[2]?.toFixed(0)} ms (${times.map((t) => t.toFixed(0)).join(', ')})`,
    );
    // A commit on the branch is its latest activity (git's times are whole seconds: one later than anything else).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await execa('git', [
      '-C',
      one.worktree,
      '-c',
      'user.email=t@envs.dev',
      '-c',
      'user.name=t',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'work',
    ]);
    const after = (await readFleet(deps)).envs.find((e) => e.name === one.name);
    expect(after).toMatchObject({ last_activity_from: 'commit', dirty: false });
    // The dirty worktree is flagged, the clean one is not.
    await expect.poll(() => page.locator(`tr[data-env="${repoId}/${two.name}"] .flag-dirty`).count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator(`tr[data-env="${repoId}/${one.name}"] .flag-dirty`).count()).toBe(0);
    // The preview link reaches the env's web service through the router (the browser resolves *.localhost).
    const preview = await browser.newPage();
    const answer = await preview.goto(one.urls.web as string);
    expect(answer?.status()).toBe(200);
    expect((await preview.textContent('body'))?.trim()).toBe('ok');
    await preview.close();

    // Keyboard: focus the env's link and press Enter.
    await page.getByRole('link', { name: one.branch }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(`http://envs.localhost:${port}/env/${repoId}/${one.name}`);
    await expect.poll(() => page.locator('h1').textContent(), { timeout: 15_000 }).toContain(one.branch);
    await expect.poll(() => page.locator('#logs-text').textContent(), { timeout: 20_000 }).toContain('hello-from-dashboard-test');
    // Logs arrive as text, without Compose's terminal escapes.
    expect(await page.locator('#logs-text').textContent()).not.toContain('\x1b');
    const shot = join(dir, 'dashboard-env.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`dashboard screenshot: ${shot}`);
  });

  it("refuses to destroy a dirty env from the page with the CLI's own message and hint", async () => {
    const cli = await envs(fx.repo, fx.home, ['destroy', `name:${two.name}`, '--json']);
    expect(cli.exitCode).toBe(1);
    const { message, hint } = cli.json.error as { message: string; hint: string };
    expect(message).toMatch(/notes\.txt/);
    const before = await snapshot(fx, [two.worktree]);

    await page.goto(`http://envs.localhost:${port}/`);
    // By keyboard only: Enter on the button opens the dialog with the focus in its field; Enter there confirms
    // only once the typed name matches.
    const button = page.getByRole('button', { name: `Destroy ${two.branch}` });
    await button.focus();
    await page.keyboard.press('Enter');
    const dialog = page.locator('dialog#confirm');
    await expect.poll(() => dialog.isVisible(), { timeout: 15_000 }).toBe(true);
    const go = dialog.getByRole('button', { name: 'Destroy' });
    expect(await go.isDisabled()).toBe(true);
    await page.keyboard.type(two.name.slice(0, -1));
    await page.keyboard.press('Enter');
    expect(await dialog.isVisible()).toBe(true);
    await page.keyboard.type(two.name.slice(-1));
    expect(await dialog.getByLabel('Type the env name to confirm').inputValue()).toBe(two.name);
    expect(await go.isDisabled()).toBe(false);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#notice.error').textContent(), { timeout: 30_000 }).toBe(`${message}\n${hint}`);
    expect(await snapshot(fx, [two.worktree])).toEqual(before);
    // The focus is back on the button that opened the dialog.
    await expect.poll(() => page.evaluate(FOCUSED), { timeout: 5_000 }).toBe(`Destroy ${two.branch}`);
  });

  it('refuses a destroy from another origin and one without the token: nothing runs, the env stays', async () => {
    const before = await snapshot(fx, [one.worktree]);
    const path = `/api/envs/${repoId}/${one.name}/destroy`;

    const other = await browser.newPage();
    // What the browser saw come back for POSTs to the destroy endpoint (opaque no-cors answers included).
    const answers: number[] = [];
    other.on('response', (response) => {
      if (response.request().method() === 'POST' && new URL(response.url()).pathname === path) answers.push(response.status());
    });
    await other.goto(`http://evil.localhost:${evilPort}/`);
    await expect.poll(() => other.title(), { timeout: 15_000 }).toBe('fetched');
    // Both the fetch and the form POST reached the dashboard, from the other origin, and were refused (the
    // refusal is not even shown in the other site's frame: the dashboard may not be framed).
    await expect.poll(() => answers, { timeout: 15_000 }).toEqual([403, 403]);
    await other.close();

    // The dashboard's own page, without the token.
    await page.goto(`http://envs.localhost:${port}/`);
    const refused = await page.evaluate(
      async ([url, name]) => {
        const response = await fetch(url as string, { method: 'POST', body: JSON.stringify({ confirm: name }) });
        return { status: response.status, body: await response.json() };
      },
      [path, one.name],
    );
    expect(refused).toMatchObject({ status: 403, body: { error: { message: 'Refused: missing or wrong x-envs-token.' } } });

    expect(await snapshot(fx, [one.worktree])).toEqual(before);
    const listed = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json as { name: string; status: string }[];
    expect(listed.find((e) => e.name === one.name)?.status).toBe('running');
  });

  it('stops and starts an env from the page', async () => {
    await page.goto(`http://envs.localhost:${port}/`);
    const row = page.locator(`tr[data-env="${repoId}/${one.name}"]`);
    await page.getByRole('button', { name: `Down ${one.branch}` }).click();
    await expect.poll(() => row.locator('.badge').first().textContent(), { timeout: 60_000 }).toBe('stopped');
    const stopped = (await envsOk(fx.repo, fx.home, ['list', '--json'])).json as { name: string; status: string }[];
    expect(stopped.find((e) => e.name === one.name)?.status).toBe('stopped');
    await page.getByRole('button', { name: `Up ${one.branch}` }).click();
    await expect.poll(() => row.locator('.badge').first().textContent(), { timeout: 120_000 }).toBe('running');
    expect(await page.locator('#notice').textContent()).toBe(`envs up ${one.branch}: done.`);
    // The button that started it has the focus again once it is enabled.
    await expect.poll(() => page.evaluate(FOCUSED), { timeout: 5_000 }).toBe(`Up ${one.branch}`);
  });
});
