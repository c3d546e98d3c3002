import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import { errorJson, progressLine } from '../cli/output.ts';
import { VERSION } from '../cli/program.ts';
import { type CommandSpec, SPECS } from '../cli/specs.ts';
import type { Progress } from '../core/converge.ts';
import type { Deps } from '../core/deps.ts';
import { printableJson } from '../core/naming.ts';
import { EnvsError } from '../errors.ts';
import { openEnvs } from '../wire.ts';
import { EXEC_LIMIT, EXEC_TIMEOUT_S, execCaptured } from './exec.ts';
import { recentLogs } from './logs.ts';
import { inputShape } from './schemas.ts';

export interface McpOptions {
  /** A directory inside the repository the server works for. */
  repo: string;
  env: NodeJS.ProcessEnv;
  /** Lets `destroy` take `force` (off: refused with FORCE_NOT_ALLOWED). */
  allowForce: boolean;
  /** Aborted on Ctrl-C/SIGTERM: the server closes and every call under way is cancelled. */
  signal: AbortSignal;
  /** Where diagnostics go (never stdout: that is the protocol's). */
  stderr: (text: string) => void;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;
type Args = Record<string, unknown>;

/** The JSON text every result and error is: the CLI's `--json` output, invisible characters escaped. */
const jsonText = (value: unknown) => printableJson(JSON.stringify(value, null, 2));

/**
 * `envs mcp`: the commands an agent needs as MCP tools over stdio, for one repository. Each call opens
 * its deps as a CLI command does (wire.ts), so the server holds no state of its own and sees what other
 * envs processes did meanwhile. Results are the CLI's JSON; failures are tool errors whose text is the
 * CLI's JSON error (`{"error": {"code", "message", "hint"}}`). Resolves when the client goes away (stdin
 * closed) or on `signal`.
 */
export async function serveMcp(options: McpOptions): Promise<void> {
  // Fails here (not at every call) outside a repository.
  const first = await openEnvs({ cwd: options.repo, env: options.env, signal: options.signal });
  const repoId = first.repoId;
  const server = new McpServer(
    { name: 'envs', version: VERSION },
    {
      instructions: `envs gives each git branch of ${first.git.repo.root} its own environment: a worktree, its own Docker Compose project on remapped ports, its own database. Tools take an env as a branch, an env name or a worktree path.`,
    },
  );

  const open = (extra: Extra, pingEarly = false): Promise<Deps> =>
    openEnvs({ cwd: options.repo, env: options.env, signal: AbortSignal.any([options.signal, extra.signal]), pingEarly });
  const signalOf = (extra: Extra) => AbortSignal.any([options.signal, extra.signal]);

  /** Progress of a long call: a progress notification when the client asked (a progressToken), else stderr. */
  const progressOf = (extra: Extra): Progress => {
    const token = extra._meta?.progressToken;
    let count = 0;
    return ({ message }) => {
      if (token === undefined) {
        options.stderr(progressLine(message));
        return;
      }
      count += 1;
      extra
        .sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: count, message } })
        .catch(() => {});
    };
  };

  const tool = (
    spec: CommandSpec,
    config: { description?: string; extra?: Record<string, z.ZodType>; readOnly?: boolean; destructive?: boolean },
    handler: (args: Args, extra: Extra) => Promise<unknown>,
  ) => {
    server.registerTool(
      spec.name,
      {
        description: config.description ?? spec.description,
        inputSchema: { ...inputShape(spec), ...config.extra },
        annotations: {
          readOnlyHint: Boolean(config.readOnly),
          destructiveHint: Boolean(config.destructive),
          openWorldHint: false,
        },
      },
      async (args: Args, extra: Extra): Promise<CallToolResult> => {
        try {
          const value = await handler(args, extra);
          return { content: [{ type: 'text', text: jsonText(value) }] };
        } catch (error) {
          if (!EnvsError.is(error)) options.stderr(`envs mcp: ${spec.name} failed: ${(error as Error)?.stack ?? String(error)}\n`);
          return { isError: true, content: [{ type: 'text', text: jsonText(errorJson(error)) }] };
        }
      },
    );
  };

  const str = (value: unknown) => value as string;
  const opt = <K extends string>(key: K, value: unknown) => (value === undefined ? {} : ({ [key]: value } as Record<K, never>));

  tool(SPECS.create, {}, async (args, extra) => {
    const deps = await open(extra, true);
    const [{ createEnv }, { afterStart }] = await Promise.all([import('../core/create.ts'), import('../proxy/auto.ts')]);
    const progress = progressOf(extra);
    const signal = signalOf(extra);
    const view = await createEnv(deps, {
      branch: str(args.branch),
      ...opt('from', args.from),
      ...opt('dbFrom', args.dbFrom),
      keepOnFailure: Boolean(args.keepOnFailure),
      signal,
      onProgress: progress,
    });
    await afterStart({ env: options.env, cwd: options.repo, signal, progress }, view);
    return view;
  });

  tool(SPECS.list, { readOnly: true }, async (args, extra) => {
    const { listEnvs } = await import('../core/list.ts');
    // The filters its schema offers (from the CLI's spec): ignoring them answered `merged: true` with every env.
    return listEnvs(await open(extra), {
      ...opt('base', args.base),
      ...opt('idleDays', args.idleDays),
      merged: Boolean(args.merged),
      idle: Boolean(args.idle),
    });
  });

  tool(SPECS.info, { readOnly: true }, async (args, extra) => {
    const { infoEnv } = await import('../core/list.ts');
    return infoEnv(await open(extra), str(args.env), { showSecrets: Boolean(args.showSecrets), cwd: options.repo });
  });

  tool(
    SPECS.destroy,
    {
      description: `${SPECS.destroy.description} Refuses (DIRTY_WORKTREE, listing them) while the worktree holds work that would be lost.${
        options.allowForce ? '' : ' `force` is refused (FORCE_NOT_ALLOWED): this server was started without --allow-force.'
      }`,
      destructive: true,
    },
    async (args, extra) => {
      if (args.force && !options.allowForce) {
        throw new EnvsError('FORCE_NOT_ALLOWED', 'destroy with force is not allowed through this MCP server: it deletes work.', {
          hint: 'Commit or remove the files yourself, or ask the user to run `envs destroy <env> --force` (or to start the server with `envs mcp --allow-force`).',
        });
      }
      const { destroyEnv } = await import('../core/destroy.ts');
      return destroyEnv(await open(extra, true), str(args.env), {
        force: Boolean(args.force),
        ...(args.worktree ? { worktree: 'remove' as const } : {}),
        cwd: options.repo,
        signal: signalOf(extra),
        onProgress: progressOf(extra),
      });
    },
  );

  tool(SPECS.up, {}, async (args, extra) => {
    const deps = await open(extra, true);
    const [{ upEnv }, { afterStart }] = await Promise.all([import('../core/updown.ts'), import('../proxy/auto.ts')]);
    const progress = progressOf(extra);
    const signal = signalOf(extra);
    const view = await upEnv(deps, str(args.env), {
      cwd: options.repo,
      signal,
      onProgress: progress,
      reconfigure: Boolean(args.reconfigure),
    });
    await afterStart({ env: options.env, cwd: options.repo, signal, progress }, view);
    return view;
  });

  tool(SPECS.down, {}, async (args, extra) => {
    const { downEnv } = await import('../core/updown.ts');
    return downEnv(await open(extra, true), str(args.env), { cwd: options.repo, signal: signalOf(extra), onProgress: progressOf(extra) });
  });

  tool(
    SPECS.logs,
    {
      description: `${SPECS.logs.description} The last lines of each (tail, default 200); no follow.`,
      readOnly: true,
    },
    async (args, extra) =>
      recentLogs(await open(extra), str(args.env), {
        ...opt('name', args.name),
        tail: (args.tail as number | undefined) ?? 200,
        env: options.env,
        signal: signalOf(extra),
      }),
  );

  tool(
    SPECS.exec,
    {
      description: `Run a command (an argument array: no shell; ["sh", "-c", "…"] for one) in an env's worktree with its variables (DATABASE_URL, ports, …). Returns its exit code, stdout and stderr (each cut at ${EXEC_LIMIT / 1024} KiB); stdin is empty; killed after timeout seconds (default ${EXEC_TIMEOUT_S}).`,
      extra: {
        timeout: z.number().positive().max(3600).optional().describe(`seconds before the command is killed (default ${EXEC_TIMEOUT_S})`),
      },
    },
    async (args, extra) =>
      execCaptured(await open(extra), str(args.env), args.command as string[], {
        cwd: options.repo,
        env: options.env,
        timeoutS: (args.timeout as number | undefined) ?? EXEC_TIMEOUT_S,
        signal: signalOf(extra),
      }),
  );

  tool(
    SPECS.env,
    {
      description:
        "An env's variables (DATABASE_URL, ports, …), secrets in clear: format json gives an object; dotenv (the default, as in the CLI) and shell give { format, text }. `info` shows them redacted.",
      readOnly: true,
    },
    async (args, extra) => {
      const [{ resolveEnv }, { formatEnv }] = await Promise.all([import('../core/resolve.ts'), import('../core/env-format.ts')]);
      const record = await resolveEnv(await open(extra), str(args.env), options.repo);
      const format = (args.format as 'dotenv' | 'shell' | 'json' | undefined) ?? 'dotenv';
      if (format === 'json') return record.env;
      const { text, skipped } = formatEnv(record.env, format);
      return { format, text, ...(skipped.length > 0 ? { skipped } : {}) };
    },
  );

  // One resource per env: its `info` JSON (secrets redacted).
  server.registerResource(
    'env',
    new ResourceTemplate(`envs://${repoId}/{env}`, {
      list: async () => {
        const { listEnvs } = await import('../core/list.ts');
        const views = await listEnvs(await openEnvs({ cwd: options.repo, env: options.env, signal: options.signal }));
        return {
          resources: views.map((view) => ({
            uri: envUri(repoId, view.name),
            name: view.name,
            title: `${view.branch} (${view.status})`,
            description: `envs info of ${view.branch}: status, ports, URLs, variables (secrets redacted)`,
            mimeType: 'application/json',
          })),
        };
      },
    }),
    { title: 'An env of this repository', description: 'envs info as JSON', mimeType: 'application/json' },
    async (uri, variables) => {
      const { infoEnv } = await import('../core/list.ts');
      const name = String(variables.env);
      const view = await infoEnv(await openEnvs({ cwd: options.repo, env: options.env, signal: options.signal }), `name:${name}`, {
        cwd: options.repo,
      });
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: jsonText(view) }] };
    },
  );

  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    // The transport reads stdin but does not end when it does: a client that went away ends the server.
    process.stdin.once('end', () => void server.close());
    options.signal.addEventListener('abort', () => void server.close(), { once: true });
  });
  await server.connect(transport);
  await closed;
}

/** The URI of an env's resource: `envs://<repository id>/<env name>`. */
export function envUri(repoId: string, name: string): string {
  return `envs://${repoId}/${name}`;
}
