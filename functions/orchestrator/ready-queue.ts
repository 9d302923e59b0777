import type { StageName } from '../../common/contracts/stages.js';
import { parseTaskKey, type TaskKey } from './dag.js';

/**
 * Work left on the longest path from a task to the end of its clip, in
 * relative units measured on 2 cores (per-clip CPU: transcode 7.4, transcribe
 * 9.2, sample-frames 2.4, detect 6.3 — bench/README.md): transcode-clip
 * = 7.4 + max(9.2, 2.4 + 6.3). Request-level stages come first of all.
 */
const PATH_LEFT: Record<StageName, number> = {
  'extract-audio': 1000,
  'segment-speech': 999,
  'cut-clips': 998,
  'transcode-clip': 16.6,
  'transcribe-clip': 9.2,
  'sample-frames': 8.7,
  'detect-objects': 6.3,
};

/**
 * Ready tasks, longest remaining path first (critical-path list scheduling),
 * then earliest clip: every clip's transcode starts early, so the last clip's
 * chain does not become a long tail after everything else is done. A binary
 * heap, so 40 000 tasks cost O(log n) each.
 */
export class ReadyQueue {
  private readonly heap: Array<{ key: TaskKey; pathLeft: number; clip: number }> = [];
  private readonly members = new Set<TaskKey>();

  get size(): number {
    return this.heap.length;
  }

  push(key: TaskKey): void {
    if (this.members.has(key)) return;
    this.members.add(key);
    const { stage, clip } = parseTaskKey(key);
    this.heap.push({ key, pathLeft: PATH_LEFT[stage], clip: clip ?? -1 });
    let i = this.heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): TaskKey | undefined {
    const top = this.heap[0];
    if (!top) return undefined;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let first = i;
        if (l < this.heap.length && this.before(l, first)) first = l;
        if (r < this.heap.length && this.before(r, first)) first = r;
        if (first === i) break;
        this.swap(i, first);
        i = first;
      }
    }
    this.members.delete(top.key);
    return top.key;
  }

  private before(a: number, b: number): boolean {
    const x = this.heap[a]!;
    const y = this.heap[b]!;
    return x.pathLeft !== y.pathLeft ? x.pathLeft > y.pathLeft : x.clip < y.clip;
  }

  private swap(a: number, b: number): void {
    const t = this.heap[a]!;
    this.heap[a] = this.heap[b]!;
    this.heap[b] = t;
  }
}
