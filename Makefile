# Developer entry points; each is a thin wrapper over npm scripts.
.PHONY: setup build test test-unit test-integration bench lint schema

SANDBOX_IMAGES = ENVS_TEST_POSTGRES_IMAGE=envs-sandbox/postgres:15 ENVS_TEST_BUSYBOX_IMAGE=envs-sandbox/busybox:latest

setup:            ## Docker Engine, Compose, Node 24, stand-in images (sandbox), then dependencies
	bash ../shared/sandbox/setup.sh
	npm ci

build:
	npm run build

test:             ## unit + integration (real Docker), with the sandbox's images
	$(SANDBOX_IMAGES) npm test

test-unit:
	npm run test:unit

test-integration:
	$(SANDBOX_IMAGES) npm run test:integration

bench:            ## envs create/destroy vs the raw floor, medians (BENCH_RUNS=7)
	$(SANDBOX_IMAGES) npm run bench

lint:             ## Biome (lint + format check) and the strict type check of everything; the JSON Schema is current
	npm run lint
	npx vitest run --project unit src/config/schema.test.ts

schema:           ## regenerate schema/envs.schema.json from the zod schema
	npm run schema
