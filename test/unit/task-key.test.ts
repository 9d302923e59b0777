import { describe, expect, it } from 'vitest';
import { CLIP_STAGES, REQUEST_STAGES } from '../../common/contracts/pipeline.js';
import { clipId } from '../../common/keys.js';
import { clipTaskKeys, parseTaskKey, taskEntries, taskKey } from '../../common/task-key.js';

describe('task keys: taskKey and parseTaskKey', () => {
  it.each(REQUEST_STAGES)('%s: a request stage is its own key, and round-trips', (stage) => {
    expect(taskKey(stage)).toBe(stage);
    expect(parseTaskKey(taskKey(stage))).toEqual({ stage });
  });

  it.each(CLIP_STAGES)('%s: a clip task names the clip zero-padded, and round-trips', (stage) => {
    for (const clip of [0, 3, 42, 9999, 10_000, 123_456]) {
      const key = taskKey(stage, clip);
      expect(key).toBe(`${stage}/${clipId(clip)}`);
      expect(parseTaskKey(key)).toEqual({ stage, clip });
    }
    expect(taskKey(stage, 3)).toBe(`${stage}/0003`);
  });

  it.each([
    '',
    'nope',
    'toString',
    '__proto__',
    '/0001',
    'transcode-clip',
    'transcode-clip/',
    'transcode-clip/3',
    'transcode-clip/00003',
    'transcode-clip/-001',
    'transcode-clip/00a1',
    'transcode-clip/1e21',
    'transcode-clip/0001/x',
    'transcode-clip/0001 ',
    'extract-audio/0001',
    'Extract-audio',
  ])('refuses %j, which taskKey cannot make', (key) => {
    expect(() => parseTaskKey(key)).toThrow(expect.objectContaining({ code: 'INVALID_TASK_KEY' }));
  });

  it('refuses a clip for a request stage and no clip for a clip stage', () => {
    expect(() => taskKey('extract-audio' as never, 1)).toThrow(/request stage/);
    expect(() => taskKey('transcode-clip' as never)).toThrow(/clip stage/);
  });

  it("lists a clip's tasks, one per clip stage, and checks the keys of state.json's tasks", () => {
    expect(clipTaskKeys(2)).toEqual(CLIP_STAGES.map((s) => `${s}/0002`));
    const task = { status: 'PENDING', attempts: 0 };
    expect(taskEntries({ 'cut-clips': task, 'detect-objects/0002': task })).toEqual([
      ['cut-clips', task],
      ['detect-objects/0002', task],
    ]);
    expect(() => taskEntries({ 'cut-clips/0002': task })).toThrow(
      expect.objectContaining({ code: 'INVALID_TASK_KEY', retryable: false }),
    );
  });
});
