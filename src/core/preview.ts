import { describeChange, rewriteServiceEnvironments } from '../bootstrap/addresses.ts';
import { describeCommand } from '../bootstrap/command.ts';
import type { ComposeModel } from '../compose/model.ts';
import { riskWarnings } from '../compose/risks.ts';
import { buildAndImageServices, type Change, LOOPBACK, transformModel } from '../compose/transform.ts';
import { composeYaml } from '../compose/write.ts';
import { formatCidr } from '../subnets/cidr.ts';
import type { Deps } from './deps.ts';
import { labelsFor } from './labels.ts';
import { type Checkout, type CreateOptions, planCreate } from './plan.ts';
import type { Binding } from './record.ts';
import { createRedactor, type Redactor } from './redact.ts';
import { shellInterpolatedValues } from './shell-values.ts';

export interface PlanView {
  name: string;
  branch: string;
  repo: string;
  worktree: string;
  project: string;
  checkout: Checkout;
  resume: boolean;
  source_files: string[];
  template?: string;
  /** The ports create would lease now (another process may take them first). */
  ports: Binding[];
  /** Gitignored files create copies from the main checkout (the render needs them). */
  copies: string[];
  /** Env files create writes into the worktree (copied, with the env's values in an envs block). */
  env_files: string[];
  /** Every value rewritten to the env's ports: file or service, key, old → new (secrets redacted). */
  rewrites: string[];
  /** Host processes create starts, with their leased port. */
  processes: { name: string; port?: number; command: string }[];
  /** Bind-mount sources in the worktree that will hold the env's data. */
  data_paths: string[];
  /** The env's database and how its data is made (absent: no Postgres service found). */
  database?: { service: string; strategy: string; image: string; snapshot?: string; fork?: string; plan: string };
  changes: Change[];
  warnings: string[];
  steps: string[];
  compose_file: string;
  /** The generated compose file, secrets redacted unless asked for. */
  compose_yaml: string;
  compose: ComposeModel;
}

export interface PlanOptions extends CreateOptions {
  showSecrets?: boolean;
  /**
   * More values to mask wherever they appear (e.g. the values the compose file interpolated from the
   * invoking shell's environment). The env's generated secrets are always masked.
   */
  secretValues?: Iterable<string>;
}

/** `envs plan`: everything create would do, computed by the same planning code, with no side effect. */
export async function planEnv(deps: Deps, options: PlanOptions): Promise<PlanView> {
  const plan = await planCreate(deps, options);
  const { ports: leases, subnets, map, files, processPorts } = plan.preview;
  const images = await imagePlan(deps, plan.source.model);
  const rewrite = rewriteServiceEnvironments(map, plan.source.model.services);
  const byKey = new Map(leases.map((l) => [l.key, l.port]));
  const labels = labelsFor({ repoId: deps.repoId, name: plan.names.name, project: plan.names.project, branch: plan.branch }, deps.home);
  const transformed = transformModel({
    model: plan.source.model,
    project: plan.names.project,
    labels,
    ports: byKey,
    subnets: new Map(subnets.map((s) => [s.key, s.cidr])),
    buildPerEnv: images.buildPerEnv,
    environments: rewrite.environments,
    ...(plan.source.originalName ? { originalName: plan.source.originalName } : {}),
  });
  const redactor = createRedactor({ show: Boolean(options.showSecrets), secretValues: Object.values(plan.secrets) });
  if (options.secretValues) redactor.addSecretValues(options.secretValues);
  redactor.addSecretValues(shellInterpolatedValues(plan.source.files, plan.source.sourceFiles, deps.env));
  const model = redactor.deep(transformed.model);
  const composeFile = plan.resume?.composeFile ?? deps.records.composeFile(plan.names.name);
  const checkout = plan.checkout;
  const add =
    checkout.kind === 'existing'
      ? `git worktree add ${plan.worktree} ${plan.branch}`
      : checkout.kind === 'track'
        ? `git worktree add --track -b ${plan.branch} ${plan.worktree} ${checkout.ref}`
        : `git worktree add --no-track -b ${plan.branch} ${plan.worktree} ${checkout.commit} (${checkout.ref})`;
  return redactPlan(redactor, {
    name: plan.names.name,
    branch: plan.branch,
    repo: deps.git.repo.root,
    worktree: plan.worktree,
    project: plan.names.project,
    checkout,
    resume: plan.resume !== undefined,
    source_files: plan.source.sourceFiles,
    ...(plan.source.template ? { template: plan.source.template } : {}),
    ports: plan.requests.map((r) => ({
      service: r.service,
      target: r.target,
      published: byKey.get(r.key) ?? 0,
      host_ip: LOOPBACK,
      protocol: r.protocol,
    })),
    copies: plan.source.copies,
    data_paths: plan.dataPaths,
    ...(plan.database
      ? {
          database: {
            service: plan.database.target.service,
            strategy: plan.database.target.strategy,
            image: plan.database.target.image,
            ...(plan.database.snapshot ? { snapshot: plan.database.snapshot.name } : {}),
            ...(plan.database.fork ? { fork: plan.database.fork } : {}),
            plan: plan.database.describe,
          },
        }
      : {}),
    env_files: files.files.filter((f) => !f.unchanged).map((f) => f.path),
    rewrites: [...files.changes, ...rewrite.changes].map(describeChange),
    processes: plan.app.processes.map((p) => ({
      name: p.name,
      ...(processPorts[p.name] ? { port: processPorts[p.name] } : {}),
      command: describeCommand(p.command),
    })),
    changes: transformed.changes,
    warnings: [...plan.warnings, ...transformed.warnings, ...riskWarnings(plan.source.model), ...files.warnings, ...map.warnings],
    steps: [
      add,
      ...(plan.source.copies.length > 0 ? [`copy ${plan.source.copies.join(', ')} from the main checkout (gitignored; mode 0600)`] : []),
      `lease ${plan.requests.length} port(s) in ${plan.settings.range.from}-${plan.settings.range.to} and ${subnets.length} subnet(s) in ${formatCidr(plan.settings.subnets.range)}`,
      ...(images.pull.length > 0 ? [`pull ${images.pull.join(', ')}`] : []),
      ...(plan.database ? [`database ${plan.database.describe}`] : []),
      `write ${composeFile}`,
      `docker compose -p ${plan.names.project} -f ${composeFile} --project-directory ${plan.source.projectDir} up --detach${images.build.length > 0 ? ` (builds ${images.build.join(', ')})` : ''}`,
      'wait until every service is up (one-shot services exited 0)' +
        (plan.dataPaths.length > 0
          ? `; ${plan.dataPaths.join(', ')} will hold the env's data (made by its containers, removed by destroy)`
          : ''),
      ...(files.files.length > 0 ? [`write ${files.files.map((f) => f.path).join(', ')} (0600; rewritten values in an envs block)`] : []),
      'install dependencies (when the worktree has a package.json)',
      ...(plan.source.config.bootstrap ?? []).map((c) => `run ${describeCommand(c)}`),
      ...plan.app.processes.map(
        (p) => `start ${p.name}: ${describeCommand(p.command)}${processPorts[p.name] ? ` (PORT=${processPorts[p.name]})` : ''}`,
      ),
    ],
    compose_file: composeFile,
    compose_yaml: await composeYaml(model),
    compose: model,
  });
}

/** What `up` will do about images: pull the missing ones, build (per-env tag) what cannot be had otherwise. */
async function imagePlan(deps: Deps, model: ComposeModel): Promise<{ pull: string[]; build: string[]; buildPerEnv: Set<string> }> {
  const refs = [...new Set(Object.values(model.services).flatMap((s) => (s.image ? [s.image] : [])))];
  const present = refs.length > 0 ? await deps.engine.imagesPresent(refs) : new Set<string>();
  const builders = buildAndImageServices(model);
  const buildPerEnv = new Set(
    builders.filter((name) => model.services[name]?.pull_policy === 'build' || !present.has(model.services[name]?.image as string)),
  );
  const pull = [
    ...new Set(
      Object.values(model.services)
        .filter((s) => s.image && !s.build && !present.has(s.image))
        .map((s) => s.image as string),
    ),
  ];
  const build = Object.entries(model.services)
    .filter(([name, s]) => s.build && (!s.image || buildPerEnv.has(name)))
    .map(([name]) => name);
  return { pull, build, buildPerEnv };
}

/**
 * Everything in the plan goes through the redactor (changes quote container and volume names, warnings
 * quote values, steps quote paths); the model is already redacted, and the YAML was made from it.
 */
function redactPlan(redactor: Redactor, view: PlanView): PlanView {
  const { compose, compose_yaml, ...rest } = view;
  return { ...redactor.deep(rest), compose_yaml, compose };
}
