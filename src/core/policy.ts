import { realpath } from 'node:fs/promises';
import { dirname, posix } from 'node:path';
import type { ComposeModel } from '../compose/model.ts';
import { allowEntries, allowYaml, type PolicyAllow, policyViolations, type Violation } from '../compose/policy.ts';
import { mounts } from '../compose/risks.ts';
import type { Config } from '../config/schema.ts';
import { EnvsError } from '../errors.ts';
import type { Deps } from './deps.ts';
import { printable } from './naming.ts';

export interface PolicyCheck {
  /** The branch the env is for (named in the refusal). */
  branch: string;
  /** The env's worktree (planned or real): bind sources inside it are the branch's own files. */
  worktree: string;
  /** envs.yaml as it is on the default branch: the only allow-list that counts. */
  baseConfig: Config | undefined;
  /** Where the worktree's files come from: a commit (plan, create) or the worktree on disk (up). */
  files: { commit: string } | { onDisk: true };
}

/**
 * The compose policy applied to a rendered model before anything runs it (plan, create, up): POLICY_REFUSED,
 * naming every violation and the envs.yaml lines that would allow them, unless envs.yaml on the default
 * branch allows them. Reads only.
 */
export async function enforcePolicy(deps: Deps, model: ComposeModel, check: PolicyCheck): Promise<void> {
  const home = deps.env.HOME ?? '';
  const allow: readonly PolicyAllow[] = check.baseConfig?.policy?.allow ?? [];
  const escapes = await linksOut(deps, model, check);
  const violations = policyViolations(model, { worktree: check.worktree, allow, home, escapes });
  if (violations.length === 0) return;
  let base = 'the default branch';
  try {
    base = await deps.git.defaultBranch();
  } catch {
    // the sentence without the name
  }
  throw policyError(violations, { base, branch: check.branch });
}

export function policyError(violations: Violation[], options: { base: string; branch: string }): EnvsError {
  // No indentation of our own: the CLI indents every line after an error's first.
  const lines = violations.map((v) => `- ${v.service}: ${v.setting}: ${v.value} (${v.why})`);
  return new EnvsError(
    'POLICY_REFUSED',
    printable(`The compose model of ${options.branch} asks for what envs refuses unless envs.yaml allows it:`) +
      `\n${lines.map(printable).join('\n')}`,
    {
      hint:
        `If you trust this, allow it in envs.yaml on ${printable(options.base)} (a branch cannot allow itself):\n` +
        allowYaml(violations).split('\n').map(printable).join('\n') +
        '\nNothing was changed.',
      details: {
        violations: violations.map(({ service, setting, value, why }) => ({ service, setting, value, why })),
        allow: allowEntries(violations),
      },
    },
  );
}

/**
 * Bind sources inside the worktree that are links leading out of it (Docker follows them): from a commit,
 * what git says of the path (a link anywhere on it that leaves the tree); on disk, where the path — or its
 * nearest existing parent — really is.
 */
async function linksOut(deps: Deps, model: ComposeModel, check: PolicyCheck): Promise<Map<string, string>> {
  const root = check.worktree.replace(/\/+$/, '');
  const inside = [
    ...new Set(
      Object.values(model.services ?? {})
        .flatMap((service) => (service ? mounts(service) : []))
        .map((m) => m.source)
        // A newline would end git's batch request early; such a path is no link git knows of anyway.
        .filter((source) => source.startsWith(`${root}/`) && !source.includes('\n')),
    ),
  ];
  const escapes = new Map<string, string>();
  if (inside.length === 0) return escapes;
  if ('commit' in check.files) {
    const relative = inside.map((source) => posix.normalize(source.slice(root.length + 1)));
    const read = await deps.git.readTree(check.files.commit, relative);
    inside.forEach((source, i) => {
      const entry = read.get(relative[i] as string);
      // git names the link's target as written; a relative one is taken from the path's directory.
      if (entry?.kind === 'outside') escapes.set(source, posix.resolve(posix.dirname(source), entry.target));
    });
    return escapes;
  }
  const realRoot = await realpath(root).catch(() => root);
  await Promise.all(
    inside.map(async (source) => {
      const real = await nearestReal(source);
      if (real && real !== realRoot && !real.startsWith(`${realRoot}/`)) escapes.set(source, real);
    }),
  );
  return escapes;
}

/** The real path of `path`, or of its nearest existing parent (a data directory made later); undefined at /. */
async function nearestReal(path: string): Promise<string | undefined> {
  for (let at = path; at !== dirname(at); at = dirname(at)) {
    try {
      const real = await realpath(at);
      return at === path ? real : posix.join(real, path.slice(at.length));
    } catch {
      // missing: try its parent
    }
  }
  return undefined;
}
