import { ROWS } from '../../common/contracts/pipeline.js';
import { parseTaskKey, type TaskKey } from '../../common/task-key.js';

/**
 * Ready tasks in the order they should start: request-level stages first,
 * then clip by clip, pipelined the way the hand-parallel script runs:
 *
 *   - a clip's later stages start as soon as its transcode is done, ahead of
 *     the next clips: the detector is one single-threaded process, and it must
 *     be fed all along, not left with every clip's detection at the end (when
 *     ready tasks went longest-path-first, all transcodes ran first and the
 *     last 40 % of a run was the detector alone on one core: 15.8 s instead of
 *     12.7 s for the 60 s input);
 *   - transcodes run TRANSCODE_LEAD clips ahead, so the last clip's chain does
 *     not start late and become a tail;
 *   - within a clip, frames → detection before transcription, which runs in
 *     its own processes and fills the other core.
 *
 * The ranks and the order within one come from the pipeline table: a clip
 * task ranks at its clip less its row's `clipsAhead`, request tasks before
 * all; then the row's `order`.
 *
 * A binary heap, so 40 000 tasks cost O(log n) each.
 */
export class ReadyQueue {
  private readonly heap: Array<{ key: TaskKey; rank: number; order: number }> = [];
  private readonly members = new Set<TaskKey>();

  get size(): number {
    return this.heap.length;
  }

  push(key: TaskKey): void {
    if (this.members.has(key)) return;
    this.members.add(key);
    const { stage, clip } = parseTaskKey(key);
    const row = ROWS[stage];
    const rank = clip === undefined ? Number.NEGATIVE_INFINITY : clip - (row.clipsAhead ?? 0);
    this.heap.push({ key, rank, order: row.order });
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
    return x.rank !== y.rank ? x.rank < y.rank : x.order < y.order;
  }

  private swap(a: number, b: number): void {
    const t = this.heap[a]!;
    this.heap[a] = this.heap[b]!;
    this.heap[b] = t;
  }
}
