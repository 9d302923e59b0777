export function syncTemplates(options?: { root?: string; quiet?: boolean }): string[];
