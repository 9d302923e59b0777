import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonSchemas } from '../../common/contracts/json-schemas.js';

const dir = join(import.meta.dirname, '..', '..', 'schemas');

describe('schemas/ matches the zod contracts', () => {
  const generated = jsonSchemas();

  it('has exactly one committed file per schema', () => {
    const committed = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .sort();
    expect(committed).toEqual(Object.keys(generated).sort());
  });

  it.each(Object.keys(generated))('%s.json is up to date (run `npm run schemas`)', (name) => {
    const committed = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
    expect(committed).toEqual(generated[name]);
  });
});
