export const ROOT: string;
export function functionNames(): string[];
export function buildFunctions(options?: { quiet?: boolean }): Promise<void>;
