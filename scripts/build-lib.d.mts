export const ROOT: string;
export function functionNames(): string[];
export function buildFunctions(options?: { quiet?: boolean }): Promise<void>;
export interface BundleContents {
  /** Source files that put code in the bundle, relative to the project root. */
  inputs: string[];
  /** Packages the bundle loads from node_modules at run time. */
  packages: string[];
}
export function functionBundleContents(): Promise<Record<string, BundleContents>>;
