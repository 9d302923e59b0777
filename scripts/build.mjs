import { buildFunctions } from './build-lib.mjs';

await buildFunctions();
