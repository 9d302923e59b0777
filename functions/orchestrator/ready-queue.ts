import { STAGE_NAMES } from '../../common/contracts/stages.js';
import { parseTaskKey, type TaskKey } from './dag.js';

const STAGE_RANK = new Map(STAGE_NAMES.map((s, i) => [s, i]));

/**
 * Ready tasks, earliest clip first and, within a clip, later stages first: a
 * clip is carried through to detection while later clips are still being
 * transcoded, so results arrive in order and work overlaps. A binary heap, so
 * 40 000 tasks cost O(log n) each.
 */
export class ReadyQueue {
  private readonly heap: Array<{ key: TaskKey; rank: number }> = [];
  private readonly members = new Set<TaskKey>();

  get size(): number {
    return this.heap.length;
  }

  push(key: TaskKey): void {
    if (this.members.has(key)) return;
    this.members.add(key);
    const { stage, clip } = parseTaskKey(key);
    const rank = (clip ?? -1) * 100 - (STAGE_RANK.get(stage) ?? 0);
    this.heap.push({ key, rank });
    let i = this.heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.rankAt(parent) <= this.rankAt(i)) break;
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
        let smallest = i;
        if (l < this.heap.length && this.rankAt(l) < this.rankAt(smallest)) smallest = l;
        if (r < this.heap.length && this.rankAt(r) < this.rankAt(smallest)) smallest = r;
        if (smallest === i) break;
        this.swap(i, smallest);
        i = smallest;
      }
    }
    this.members.delete(top.key);
    return top.key;
  }

  private rankAt(i: number): number {
    return this.heap[i]!.rank;
  }

  private swap(a: number, b: number): void {
    const t = this.heap[a]!;
    this.heap[a] = this.heap[b]!;
    this.heap[b] = t;
  }
}
