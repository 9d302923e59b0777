// `npm run templates`: faas-cli only reads templates from ./template/, so copy
// ours from templates/ (committed) into template/ (git-ignored), replacing any
// older copy of the same template. Other templates in ./template are left alone.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './build-lib.mjs';

export function syncTemplates({ root = ROOT, quiet = false } = {}) {
  const source = join(root, 'templates');
  const target = join(root, 'template');
  if (!existsSync(source)) throw new Error(`no templates folder at ${source}`);
  mkdirSync(target, { recursive: true });
  const names = readdirSync(source, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
  for (const name of names) {
    rmSync(join(target, name), { recursive: true, force: true });
    cpSync(join(source, name), join(target, name), { recursive: true });
    if (!quiet) console.log(`template/${name} <- templates/${name}`);
  }
  return names;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) syncTemplates();
