/**
 * The one place tests name container images. Defaults are what a user would run; CI (no registry)
 * points them at the sandbox's local stand-ins through these variables.
 */
export const images = {
  postgres: process.env.ENVS_TEST_POSTGRES_IMAGE ?? 'postgres:17-alpine',
  busybox: process.env.ENVS_TEST_BUSYBOX_IMAGE ?? 'busybox:1.37',
};
