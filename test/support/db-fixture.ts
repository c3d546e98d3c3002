import { images } from './images.ts';

/**
 * The compose file of most repositories with a Postgres: PGDATA in a named volume, init scripts (schema, rows)
 * from ./db/init, a fixed host port — the shape per-env databases are cloned from.
 */
export const POSTGRES_WITH_INIT = `services:
  db:
    image: ${images.postgres}
    environment:
      POSTGRES_PASSWORD: secret
      POSTGRES_DB: app
    ports: ["5432:5432"]
    volumes:
      - pgdata:/var/lib/postgresql/data
      - ./db/init:/docker-entrypoint-initdb.d:ro
volumes:
  pgdata:
`;
