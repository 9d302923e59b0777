/** ANSI styling, only for terminals (and never with NO_COLOR set). */
export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  good(s: string): string;
  bad(s: string): string;
  mark(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;

export function styleFor(tty: boolean, env: NodeJS.ProcessEnv): Style {
  if (!tty || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) {
    const same = (s: string) => s;
    return { bold: same, dim: same, good: same, bad: same, mark: same };
  }
  return { bold: wrap(1, 22), dim: wrap(2, 22), good: wrap(32, 39), bad: wrap(31, 39), mark: wrap(33, 39) };
}
