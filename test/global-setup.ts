import { buildFunctions } from '../scripts/build-lib.mjs';

/** e2e tests run the same bundles the container runs: build them once per test run. */
export default async function setup(): Promise<void> {
  await buildFunctions({ quiet: true });
}
