/**
 * `npm run bench` (bench/proxy.ts): the cost of a preview URL. The same small node:http upstream measured
 *
 *   direct    on its port
 *   envs      through our router (`envs proxy run`, routing by Host from an env record)
 *   portless  through portless's proxy (the npm package, `portless proxy start --foreground --no-tls`
 *             with its own state directory and `portless alias`: offline, no hosts file, no TLS)
 *
 * each in its own process, all on 127.0.0.1. Two measurements per target and run:
 *   latency   one keep-alive connection, sequential GETs: p50/p99 of each request (what a person's page load feels)
 *   load      autocannon, 50 keep-alive connections: requests/s, and its p50/p99 under that load
 * Two upstream routes: `/` answers at once (the worst case for any proxy, which then does more work per request
 * than the app), `/work` spends 1 ms of CPU first (a small server-rendered page).
 * Targets alternate order between runs; medians are reported. BENCH_RUNS sets the runs (default 3),
 * BENCH_SECONDS the load duration (default 5; 2 with BENCH_RUNS=1, the CI smoke run).
 * Goals (issue 10): added p50 <= 0.3 ms, throughput >= 0.8x direct and >= 1.0x portless.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { sampleRecord } from '../src/testing/record.ts';
import { BIN } from '../test/support/cli.ts';
import { median, printTable } from './table.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? (RUNS === 1 ? 2 : 5));
const SEQUENTIAL = RUNS === 1 ? 1_000 : 3_000;
const CONNECTIONS = 50;
const PORTLESS = fileURLToPath(new URL('../node_modules/portless/dist/cli.js', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const children: ChildProcess[] = [];
function start(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  // portless logs every aborted client connection (autocannon ends with 50) to stderr: not ours to show.
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', args[0] === PORTLESS ? 'ignore' : 'inherit'],
  });
  children.push(child);
  return child;
}

/** One GET with a Host header; resolves with the status. */
function get(port: number, host: string, agent: Agent | false = false, path = '/'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until200(port: number, host: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await get(port, host).catch(() => 0)) === 200) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing answered 200 on ${port} for ${host}`);
}

/** p50/p99 (ms) of sequential keep-alive GETs on one connection. */
async function sequential(port: number, host: string, path: string): Promise<{ p50: number; p99: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  for (let i = 0; i < SEQUENTIAL + 200; i++) {
    const t = process.hrtime.bigint();
    const status = await get(port, host, agent, path);
    if (status !== 200) throw new Error(`status ${status} from ${host}`);
    if (i >= 200) times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  agent.destroy();
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length * 0.5)] as number, p99: times[Math.floor(times.length * 0.99)] as number };
}

interface Sample {
  p50: number;
  p99: number;
  rps: number;
  loadP50: number;
  loadP99: number;
  /** Requests under load that failed (connection errors, timeouts, status >= 300). */
  failed: number;
}

async function measure(port: number, host: string, path: string): Promise<Sample> {
  const latency = await sequential(port, host, path);
  const load = await autocannon({ url: `http://127.0.0.1:${port}${path}`, connections: CONNECTIONS, duration: SECONDS, headers: { host } });
  // Failed answers under load are counted, not thrown: the peer's are part of the comparison.
  const failed = load.errors + load.non2xx + load.timeouts;
  return { ...latency, rps: load.requests.average, loadP50: load.latency.p50, loadP99: load.latency.p99, failed };
}

function report(title: string, samples: Map<string, Sample[]>): void {
  const med = (name: string, key: keyof Sample) => median((samples.get(name) ?? []).map((s) => s[key]));
  const direct = { p50: med('direct', 'p50'), rps: med('direct', 'rps') };
  const ms = (n: number) => n.toFixed(3);
  const rows = [
    [
      'target',
      'p50 ms (1 conn)',
      'p99 ms (1 conn)',
      'added p50 ms',
      `req/s (${CONNECTIONS} conn)`,
      'vs direct',
      `p50/p99 ms (${CONNECTIONS} conn)`,
      'failed',
    ],
  ];
  for (const name of samples.keys()) {
    rows.push([
      name,
      ms(med(name, 'p50')),
      ms(med(name, 'p99')),
      name === 'direct' ? '-' : ms(med(name, 'p50') - direct.p50),
      Math.round(med(name, 'rps')).toString(),
      `${(med(name, 'rps') / direct.rps).toFixed(2)}x`,
      `${med(name, 'loadP50')}/${med(name, 'loadP99')}`,
      String((samples.get(name) ?? []).reduce((sum, s) => sum + s.failed, 0)),
    ]);
  }
  printTable(
    `Preview router, ${title}: direct vs envs vs portless (medians of ${RUNS} run${RUNS === 1 ? '' : 's'}, ${SECONDS} s load each)`,
    rows,
  );
  const added = med('envs router', 'p50') - direct.p50;
  const vsDirect = med('envs router', 'rps') / direct.rps;
  const vsPortless = med('envs router', 'rps') / med('portless', 'rps');
  console.log(
    `\ngoals: added p50 ${ms(added)} ms (<= 0.3: ${added <= 0.3 ? 'met' : 'NOT met'}), throughput ${vsDirect.toFixed(2)}x direct (>= 0.8: ${vsDirect >= 0.8 ? 'met' : 'NOT met'}), ${vsPortless.toFixed(2)}x portless (>= 1.0: ${vsPortless >= 1 ? 'met' : 'NOT met'})`,
  );
}

const root = await mkdtemp(join(tmpdir(), 'envs-bench-proxy-'));
try {
  const [upstreamPort, routerPort, portlessPort] = await Promise.all([freePort(), freePort(), freePort()]);
  // `/`: hello world (the worst case for any proxy: it then does more work than the app); `/work`: 1 ms of CPU
  // per request, a small server-rendered page.
  start(
    [
      '-e',
      `require('node:http').createServer((q, s) => { if (q.url === '/work') { const end = performance.now() + 1; while (performance.now() < end); } s.end('hello world\\n'); }).listen(${upstreamPort}, '127.0.0.1')`,
    ],
    {},
  );

  // Our router, reading one env record that points at the upstream.
  const home = join(root, 'home');
  const record = sampleRecord({
    name: 'bench-1a2b3c',
    host: 'bench-1a2b3c',
    repoId: 'bench-0000',
    ports: [{ service: 'web', target: 80, published: upstreamPort, host_ip: '127.0.0.1', protocol: 'tcp' }],
  });
  await mkdir(join(home, 'repos', record.repoId, 'envs'), { recursive: true });
  await writeFile(join(home, 'repos', record.repoId, 'envs', `${record.name}.json`), JSON.stringify(record));
  start([BIN, 'proxy', 'run'], { ENVS_HOME: home, ENVS_PROXY_PORT: String(routerPort) });

  // portless, offline: its own state directory, plain HTTP, no hosts-file sync; the upstream as an alias.
  const portlessEnv = { PORTLESS_STATE_DIR: join(root, 'portless'), PORTLESS_SYNC_HOSTS: '0', PORTLESS_HTTPS: '0' };
  start([PORTLESS, 'proxy', 'start', '--foreground', '-p', String(portlessPort), '--no-tls'], portlessEnv);
  await until200(upstreamPort, `127.0.0.1:${upstreamPort}`);
  for (let i = 0; ; i++) {
    const alias = spawn(process.execPath, [PORTLESS, 'alias', 'bench', String(upstreamPort)], {
      env: { ...process.env, ...portlessEnv },
      stdio: 'ignore',
    });
    if ((await new Promise((r) => alias.on('exit', r))) === 0) break;
    if (i > 50) throw new Error('portless alias failed');
    await new Promise((r) => setTimeout(r, 100));
  }

  const targets = [
    { name: 'direct', port: upstreamPort, host: `127.0.0.1:${upstreamPort}` },
    { name: 'envs router', port: routerPort, host: `${record.host}.localhost:${routerPort}` },
    { name: 'portless', port: portlessPort, host: `bench.localhost:${portlessPort}` },
  ];
  for (const t of targets) await until200(t.port, t.host);

  const scenarios = [
    { path: '/', title: 'hello world upstream' },
    { path: '/work', title: 'upstream spending 1 ms of CPU per request' },
  ];
  for (const { path, title } of scenarios) {
    const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
    for (let run = 0; run < RUNS; run++) {
      const order = run % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) samples.get(t.name)?.push(await measure(t.port, t.host, path));
    }
    report(title, samples);
  }
} finally {
  // The proxies first, then the upstream (else they log its hang-ups).
  for (const child of children.slice(1).concat(children.slice(0, 1))) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2_000))]);
  }
  await rm(root, { recursive: true, force: true });
}
