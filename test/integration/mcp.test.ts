import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.ts';
import { expectNothingLeft } from '../support/docker.ts';
import { images } from '../support/images.ts';
import { type Fixture, useRepo } from '../support/repo.ts';

/** Postgres (so the env has a DATABASE_URL of its own) and a web service that says hello in its log. */
const files = {
  'compose.yaml': `services:
  db:
    image: ${images.postgres}
    environment:
      POSTGRES_PASSWORD: mcp-secret
      POSTGRES_DB: app
    ports:
      - "5432:5432"
  web:
    image: ${images.busybox}
    init: true
    command: ["sh", "-c", "echo hello-from-compose; exec httpd -f -p 80 -h /"]
    ports:
      - "8080:80"
`,
  '.gitignore': 'node_modules/\n',
};

const serverEnv = (home: string) => ({
  ...(process.env as Record<string, string>),
  ENVS_HOME: home,
  ENVS_POSTGRES_IMAGE: images.postgres,
  ENVS_PROXY: 'off',
});

/** A tool call's JSON: the result, or the error object of a tool error. */
function parsed(result: unknown): { isError: boolean; value: any } {
  const r = result as CallToolResult;
  const first = r.content[0];
  if (first?.type !== 'text') throw new Error(`expected a text result, got ${JSON.stringify(r)}`);
  return { isError: Boolean(r.isError), value: JSON.parse(first.text) };
}

describe('envs mcp over stdio on the real engine', () => {
  const fx: Fixture = useRepo(files, 'mcpapp');
  let client: Client;
  let transport: StdioClientTransport;
  let stderr = '';
  const protocolErrors: Error[] = [];

  const call = async (name: string, args: Record<string, unknown> = {}) => parsed(await client.callTool({ name, arguments: args }));
  const ok = async (name: string, args: Record<string, unknown> = {}) => {
    const { isError, value } = await call(name, args);
    if (isError) throw new Error(`${name} failed: ${JSON.stringify(value)}\nserver stderr: ${stderr}`);
    return value;
  };

  beforeAll(async () => {
    transport = new StdioClientTransport({ command: 'node', args: [BIN, 'mcp'], cwd: fx.repo, env: serverEnv(fx.home), stderr: 'pipe' });
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    client = new Client({ name: 'envs-test', version: '1.0.0' });
    // A line on stdout that is not the protocol's would show up here.
    client.onerror = (error) => protocolErrors.push(error);
    await client.connect(transport);
  });
  afterAll(async () => {
    await client?.close();
  });

  it('lists the tools with input schemas made from the CLI’s options', async () => {
    const { tools } = await client.listTools();
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual(['create', 'destroy', 'down', 'env', 'exec', 'info', 'list', 'logs', 'up']);
    const props = (name: string) => Object.keys(byName[name]?.inputSchema.properties ?? {}).sort();
    expect(props('create')).toEqual(['branch', 'dbFrom', 'from', 'keepOnFailure']);
    expect(byName.create?.inputSchema.required).toEqual(['branch']);
    expect(props('destroy')).toEqual(['env', 'force', 'worktree']);
    expect(props('up')).toEqual(['env', 'reconfigure']);
    expect(props('info')).toEqual(['env', 'showSecrets']);
    expect(props('logs')).toEqual(['env', 'name', 'tail']); // no follow
    expect(props('exec')).toEqual(['command', 'env', 'timeout']);
    expect(byName.exec?.inputSchema.properties?.command).toMatchObject({ type: 'array', items: { type: 'string' } });
    expect(byName.env?.inputSchema.properties?.format).toMatchObject({ enum: ['dotenv', 'shell', 'json'] });
    expect(props('list')).toEqual(['base', 'idle', 'idleDays', 'merged']); // not unmanaged: another shape
    expect(byName.destroy?.annotations?.destructiveHint).toBe(true);
  });

  it('creates an env, shows it as a tool result and as a resource, runs commands in it, stops and starts it, destroys it', async () => {
    const progress: string[] = [];
    const created = parsed(
      await client.callTool({ name: 'create', arguments: { branch: 'feat/mcp' } }, undefined, {
        onprogress: (p) => progress.push(p.message ?? ''),
        timeout: 300_000,
      }),
    );
    expect(created.isError, JSON.stringify(created.value)).toBe(false);
    const env = created.value;
    expect(env).toMatchObject({ branch: 'feat/mcp', status: 'running' });
    expect(progress.length).toBeGreaterThan(0); // the client asked for progress: it got notifications
    const dbPort = env.ports.find((p: { service: string }) => p.service === 'db').published as number;
    expect(dbPort).not.toBe(5432);

    // The same view as `envs info --json`, secrets redacted.
    const info = await ok('info', { env: 'feat/mcp' });
    expect(info).toMatchObject({ name: env.name, status: 'running', worktree: env.worktree });
    expect(info.env.DATABASE_URL).toContain('***');
    expect((await ok('list')).map((v: { name: string }) => v.name)).toEqual([env.name]);
    // The filters the tool's schema offers do filter: an env made a moment ago is not idle.
    expect(await ok('list', { idle: true })).toEqual([]);

    // One resource per env.
    const { resources } = await client.listResources();
    expect(resources).toHaveLength(1);
    const uri = resources[0]?.uri as string;
    expect(uri).toMatch(new RegExp(`^envs://mcpapp-[0-9a-f]{4}/${env.name}$`));
    const read = await client.readResource({ uri });
    const resource = JSON.parse((read.contents[0] as { text: string }).text);
    expect(resource).toMatchObject({ name: env.name, branch: 'feat/mcp', status: 'running' });

    // env: the variables in clear; exec: an argv array (no shell of ours) in the worktree with them.
    const vars = await ok('env', { env: 'feat/mcp', format: 'json' });
    expect(vars.DATABASE_URL).toContain(`:${dbPort}/`);
    expect(vars.DATABASE_URL).toContain('mcp-secret');
    const echoed = await ok('exec', { env: 'feat/mcp', command: ['sh', '-c', 'echo "$DATABASE_URL"; pwd; echo oops >&2; exit 3'] });
    expect(echoed).toMatchObject({ exit_code: 3, timed_out: false, truncated: false, stderr: 'oops\n', cwd: env.worktree });
    expect(echoed.stdout).toBe(`${vars.DATABASE_URL}\n${env.worktree}\n`);
    const dotenv = await ok('env', { env: 'feat/mcp' }); // the CLI's default format
    expect(dotenv.format).toBe('dotenv');
    expect(dotenv.text).toContain(`DATABASE_URL='${vars.DATABASE_URL}'`);

    const started = Date.now();
    const slow = await ok('exec', { env: 'feat/mcp', command: ['sleep', '30'], timeout: 1 });
    expect(slow).toMatchObject({ exit_code: null, timed_out: true });
    expect(Date.now() - started).toBeLessThan(10_000);
    const missing = await call('exec', { env: 'feat/mcp', command: ['no-such-program-envs'] });
    expect(missing).toMatchObject({ isError: true, value: { error: { code: 'EXEC_FAILED' } } });

    const logs = await ok('logs', { env: 'feat/mcp', name: 'web', tail: 20 });
    expect(logs.services).toContain('hello-from-compose');
    expect(logs.services).not.toMatch(/\x1b/); // text for an agent, no terminal controls

    const down = await ok('down', { env: 'feat/mcp' });
    expect(down.status).toBe('stopped');
    const up = await ok('up', { env: 'feat/mcp' });
    expect(up.status).toBe('running');
    expect(up.ports.find((p: { service: string }) => p.service === 'db').published).toBe(dbPort);

    // destroy keeps its safety rules: dirty work is refused with the code, and force is not the agent's.
    const work = join(env.worktree, 'notes.txt');
    await writeFile(work, 'unsaved work\n');
    const dirty = await call('destroy', { env: 'feat/mcp' });
    expect(dirty.isError).toBe(true);
    expect(dirty.value.error).toMatchObject({ code: 'DIRTY_WORKTREE' });
    expect(dirty.value.error.hint).toBeTruthy();
    const forced = await call('destroy', { env: 'feat/mcp', force: true });
    expect(forced).toMatchObject({ isError: true, value: { error: { code: 'FORCE_NOT_ALLOWED' } } });
    expect(existsSync(work)).toBe(true);
    expect((await ok('info', { env: 'feat/mcp' })).status).toBe('running');

    await rm(work);
    const destroyed = await ok('destroy', { env: 'feat/mcp' });
    expect(destroyed).toMatchObject({ name: env.name, worktree_removed: true, branch_kept: true });
    expect(await ok('list')).toEqual([]);
    expect(existsSync(env.worktree)).toBe(false);
    const gone = await call('info', { env: 'feat/mcp' });
    expect(gone).toMatchObject({ isError: true, value: { error: { code: 'ENV_NOT_FOUND' } } });
    await expectNothingLeft(fx.label);
    expect(protocolErrors).toEqual([]);
  }, 300_000);

  it('takes force when started with --allow-force', async () => {
    const forceTransport = new StdioClientTransport({
      command: 'node',
      args: [BIN, 'mcp', '--allow-force'],
      cwd: fx.repo,
      env: serverEnv(fx.home),
      stderr: 'pipe',
    });
    const forceClient = new Client({ name: 'envs-test', version: '1.0.0' });
    await forceClient.connect(forceTransport);
    try {
      const env = parsed(
        await forceClient.callTool({ name: 'create', arguments: { branch: 'feat/force' } }, undefined, { timeout: 300_000 }),
      );
      expect(env.isError, JSON.stringify(env.value)).toBe(false);
      await writeFile(join(env.value.worktree, 'scratch.txt'), 'x\n');
      const destroyed = parsed(await forceClient.callTool({ name: 'destroy', arguments: { env: 'feat/force', force: true } }));
      expect(destroyed.isError, JSON.stringify(destroyed.value)).toBe(false);
      expect(destroyed.value.forced_files.map((f: { path: string }) => f.path)).toEqual(['scratch.txt']);
      await expectNothingLeft(fx.label);
    } finally {
      await forceClient.close();
    }
  }, 300_000);
});

describe('envs mcp as a process', () => {
  const fx: Fixture = useRepo({ 'README.md': 'x\n' }, 'mcpproc');
  let home = '';
  beforeAll(() => {
    home = fx.home;
  });

  const start = () => execa('node', [BIN, 'mcp'], { cwd: fx.repo, env: serverEnv(home), reject: false, stdin: 'pipe', timeout: 20_000 });

  it('exits 0 when its client closes stdin, having written nothing but the protocol to stdout', async () => {
    const server = start();
    server.stdin?.end(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })}\n`);
    const result = await server;
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n').map((line) => JSON.parse(line))).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }]);
  });

  it('exits 0 on Ctrl-C', async () => {
    const server = start();
    server.stdin?.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })}\n`);
    await new Promise<void>((resolve) => server.stdout?.once('data', () => resolve()));
    server.kill('SIGINT');
    const result = await server;
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('refuses to start outside a repository, saying so on stderr', async () => {
    const result = await execa('node', [BIN, 'mcp', '--repo', fx.root], { env: serverEnv(home), reject: false, stdin: 'ignore' });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/git/i);
    expect(result.stderr).toMatch(/--repo <dir>/); // this command's option, not -C
    expect(result.stderr).not.toMatch(/-C <dir>/);
  });
});
