import { buildFunctions } from '../scripts/build-lib.mjs';

/**
 * e2e tests run the same bundles the container runs: build them once per test
 * run. CLIPSEEK_SKIP_BUILD=1 skips it when iterating on unit tests only.
 */
export default async function setup(): Promise<void> {
  if (process.env.CLIPSEEK_SKIP_BUILD === '1') return;
  await buildFunctions({ quiet: true });
}
