/**
 * The part of Compose's effective model (`docker compose config --format json`) that envs reads or
 * changes. Everything else is carried through untouched, hence the index signatures.
 */
export interface PortMapping {
  mode?: string;
  host_ip?: string;
  target: number;
  /** Host port or range as Compose prints it ("5432", "8000-8010"); absent: an ephemeral port. */
  published?: string;
  protocol?: string;
  name?: string;
  app_protocol?: string;
  [key: string]: unknown;
}

export interface ServiceNetwork {
  aliases?: string[];
  [key: string]: unknown;
}

export interface Service {
  image?: string;
  build?: { context?: string; labels?: Record<string, string>; [key: string]: unknown };
  container_name?: string;
  ports?: PortMapping[];
  labels?: Record<string, string>;
  networks?: Record<string, ServiceNetwork | null>;
  network_mode?: string;
  volumes_from?: string[];
  environment?: Record<string, string | null>;
  healthcheck?: unknown;
  [key: string]: unknown;
}

export interface TopLevelResource {
  name?: string;
  external?: boolean | { name?: string };
  labels?: Record<string, string>;
  [key: string]: unknown;
}

export interface ComposeModel {
  name?: string;
  services: Record<string, Service>;
  volumes?: Record<string, TopLevelResource | null>;
  networks?: Record<string, TopLevelResource | null>;
  [key: string]: unknown;
}
