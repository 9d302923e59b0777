import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  AnyManifest,
  CallbackBody,
  CancelRequest,
  ErrorBody,
  ErrorInfo,
  FinalResult,
  Lease,
  manifestSchema,
  ObjectKey,
  OrchestratorCall,
  Profile,
  ProfileOverrides,
  RequestId,
  RequestState,
  ResumeRequest,
  SearchRequest,
  STAGE_CONTRACTS,
  type StageName,
  StatusRequest,
  StatusResponse,
  SubmitRequest,
  TaskState,
  TimeRange,
} from '../../common/contracts/index.js';
import { STAGE_NAMES } from '../../common/contracts/pipeline.js';
import { PROFILES } from '../../common/profiles.js';

// Every contract accepts a realistic sample and rejects the obvious wrong ones:
// each required field missing, each field of the wrong type, and the
// domain-specific mistakes (path traversal, negative seconds, bad ids, …).

const T0 = '2026-03-01T12:00:00.000Z';
const T1 = '2026-03-01T12:00:42.500Z';
const RID = 'req-2026-03-01_abc';
const k = (rest: string) => `requests/${RID}/${rest}`;
const DIGEST = 'a'.repeat(64);

const STAGE_SAMPLES: { [S in StageName]: { input: unknown; output: unknown } } = {
  'copy-source': {
    input: { namespace: 'default', request_id: RID, video_uri: 'https://example.com/v.mp4' },
    output: {
      source_key: `results/default/copy-source/${DIGEST}/source.mp4`,
      sha256: DIGEST,
      size_bytes: 4_812_331,
      name: 'v.mp4',
    },
  },
  'extract-audio': {
    input: { namespace: 'default', request_id: RID, source_key: k('input/video.mp4') },
    output: {
      probe: {
        format_name: 'mov,mp4,m4a,3gp,3g2,mj2',
        duration_s: 63.2,
        size_bytes: 4_812_331,
        video: { codec: 'h264', width: 1280, height: 720, fps: 29.97 },
        audio: { codec: 'aac', sample_rate: 44_100, channels: 2 },
      },
      audio_key: k('extract-audio/audio.wav'),
      has_audio: true,
    },
  },
  'segment-speech': {
    input: {
      namespace: 'default',
      request_id: RID,
      audio_key: k('extract-audio/audio.wav'),
      duration_s: 63.2,
      params: PROFILES.default.segment,
    },
    output: {
      speech: [
        [0.4, 12.9],
        [14.1, 30],
      ],
      clips: [
        { index: 0, start: 0.15, end: 13.15 },
        { index: 1, start: 13.85, end: 30.25 },
      ],
      no_speech: false,
    },
  },
  'cut-clips': {
    input: {
      namespace: 'default',
      request_id: RID,
      source_key: k('input/video.mp4'),
      clips: [{ index: 0, start: 0.15, end: 13.15 }],
    },
    output: {
      pieces: [
        {
          index: 0,
          piece_key: k('cut-clips/0000/piece.mp4'),
          piece_start_s: 0,
          piece_timestamp_s: 0,
          has_audio: true,
          start: 0.15,
          end: 13.15,
          offset_s: 0.15,
        },
      ],
    },
  },
  'transcode-clip': {
    input: {
      namespace: 'default',
      request_id: RID,
      clip: 0,
      piece_key: k('cut-clips/0000/piece.mp4'),
      piece_timestamp_s: 0,
      has_audio: true,
      offset_s: 0.15,
      duration_s: 13,
      params: PROFILES.default.transcode,
    },
    output: {
      clip: 0,
      video_key: k('transcode-clip/0000/clip.mp4'),
      audio_key: k('transcode-clip/0000/clip.wav'),
      duration_s: 13,
      width: 640,
      height: 360,
    },
  },
  'transcribe-clip': {
    input: {
      namespace: 'default',
      request_id: RID,
      clip: 0,
      audio_key: k('transcode-clip/0000/clip.wav'),
      params: { language: 'en-us' },
    },
    output: {
      clip: 0,
      engine: 'pocketsphinx-5prealpha',
      text: 'the cat sat on the mat',
      words: [
        { word: 'the', start: 0.3, end: 0.42, confidence: 0.91 },
        { word: 'cat', start: 0.42, end: 0.8 },
      ],
      no_speech: false,
    },
  },
  'sample-frames': {
    input: {
      namespace: 'default',
      request_id: RID,
      clip: 0,
      video_key: k('transcode-clip/0000/clip.mp4'),
      duration_s: 13,
      params: PROFILES.default.frames,
    },
    output: {
      clip: 0,
      frames: [
        { key: k('sample-frames/0000/f0000.jpg'), t: 0 },
        { key: k('sample-frames/0000/f0001.jpg'), t: 1 },
      ],
      thumbnail_key: k('sample-frames/0000/thumb.jpg'),
    },
  },
  'detect-objects': {
    input: {
      namespace: 'default',
      request_id: RID,
      clip: 0,
      frames: [{ key: k('sample-frames/0000/f0000.jpg'), t: 0 }],
      frame_interval_s: 1,
      params: PROFILES.default.detect,
    },
    output: {
      clip: 0,
      model: 'centernet-coco80',
      detections: [{ t: 0, label: 'cat', score: 0.82, box: [0.1, 0.2, 0.3, 0.4] }],
      labels: [{ label: 'cat', best_score: 0.82, ranges: [[0, 1]], frames: 1 }],
    },
  },
};

const FINAL = {
  schema_version: 1,
  request_id: RID,
  status: 'SUCCEEDED',
  query: 'where is the cat',
  understood: {
    labels: ['cat'],
    objects: [{ words: 'cat', labels: ['cat'] }],
    terms: [],
    phrases: [],
    speech_only: [],
    suggestions: [],
    unknown: ['where'],
  },
  answerable: true,
  matches: [
    {
      start: 0.15,
      end: 1.15,
      score: 0.82,
      found: ['cat'],
      missing: [],
      clips: [0],
      why: {
        labels: [{ label: 'cat', ranges: [[0.15, 1.15]], best_score: 0.82 }],
        words: [{ word: 'cat', term: 'cat', start: 0.57, end: 0.95 }],
      },
      transcript: 'the cat',
      video_keys: [k('transcode-clip/0000/clip.mp4')],
      thumbnail_key: k('sample-frames/0000/frame-00000.jpg'),
      thumbnail_t: 0.15,
    },
  ],
  coverage: { duration_s: 30.25, analysed_s: 13, ratio: 0.43, unanalysed: [[13.15, 30.25]] },
  clips: 2,
  clip_list: [
    {
      clip: 0,
      start: 0.15,
      end: 13.15,
      labels: ['cat'],
      failed: false,
      transcript: 'the cat sat on the mat',
    },
    { clip: 1, start: 13.85, end: 30.25, labels: [], failed: true },
  ],
  failed_clips: [
    { clip: 1, error: { code: 'STAGE_TIMEOUT', message: 'transcode-clip timed out', retryable: true } },
  ],
  source: { key: k('input/video.mp4'), duration_s: 63.2 },
  metrics: { wall_ms: 42_500, stages: { 'transcode-clip': { tasks: 2, total_ms: 8000, max_ms: 4100 } } },
  error: null,
};

const STATE = {
  schema_version: 1,
  request_id: RID,
  status: 'RUNNING',
  created_at: T0,
  updated_at: T1,
  expires_at: '2026-03-02T12:00:00.000Z',
  namespace: 'default',
  profile: 'default',
  params: PROFILES.default,
  request: {
    video_uri: 'https://example.com/v.mp4',
    query: 'where is the cat',
    callback_url: 'https://hooks.example.com/x',
  },
  lease: { owner: 'orchestrator-7f9c/call-1', expires_at: T1 },
  runs: 1,
  clips: 2,
  failed_clips: [],
  stages: { 'extract-audio': { status: 'SUCCEEDED', done: 1, failed: 0, total: 1 } },
  tasks: {
    'extract-audio': {
      status: 'SUCCEEDED',
      attempts: 1,
      started_at: T0,
      finished_at: T1,
      manifest: `results/default/extract-audio/${DIGEST}/manifest.json`,
      digest: DIGEST,
      reused: true,
    },
    'transcode-clip/0001': {
      status: 'PENDING',
      attempts: 1,
      retry_at: T1,
      error: { code: 'X', message: 'y' },
    },
  },
  callbacks: [
    {
      delivery_id: 'd-1',
      url: 'https://hooks.example.com/x',
      attempt: 1,
      at: T1,
      status_code: 500,
      delivered: false,
    },
  ],
  cancel_requested: false,
  error: null,
};

const manifestOf = (stage: StageName) => ({
  schema_version: 1,
  stage,
  request_id: RID,
  clip: stage === 'extract-audio' || stage === 'segment-speech' || stage === 'cut-clips' ? null : 0,
  digest: DIGEST,
  created_at: T0,
  duration_ms: 812,
  output: STAGE_SAMPLES[stage].output,
});

interface Case {
  schema: z.ZodType;
  sample: unknown;
  /** Domain-specific wrong versions, each with what is wrong. */
  wrong?: Array<[string, unknown]>;
  /** Top-level fields that accept any type (skipped by the wrong-type sweep). */
  anyType?: string[];
  /** Every top-level field is required (stage inputs: a stage never guesses). */
  allRequired?: boolean;
}

const SUBMIT = {
  video_uri: 's3://media/in/video.mp4',
  query: 'where is the cat',
  profile: 'fast',
  overrides: { frames: { fps: 2 } },
  callback_url: 'https://hooks.example.com/clipseek',
  request_id: RID,
};

const CASES: Record<string, Case> = {
  SubmitRequest: {
    schema: SubmitRequest,
    sample: SUBMIT,
    wrong: [
      ['an unknown profile name', { ...SUBMIT, profile: 'turbo' }],
      ['a non-http callback_url (ftp)', { ...SUBMIT, callback_url: 'ftp://hooks.example.com/x' }],
      ['a javascript: callback_url', { ...SUBMIT, callback_url: 'javascript:alert(1)' }],
      ['a file: callback_url', { ...SUBMIT, callback_url: 'file:///etc/passwd' }],
      ['a callback_url that is not a URL', { ...SUBMIT, callback_url: 'hooks.example.com' }],
      ['a path-traversal request_id', { ...SUBMIT, request_id: '../../etc' }],
      ['a request_id with a slash', { ...SUBMIT, request_id: 'abc/def' }],
      ['a too-short request_id', { ...SUBMIT, request_id: 'ab' }],
      ['a blank query', { ...SUBMIT, query: '   ' }],
      ['a huge query', { ...SUBMIT, query: 'x'.repeat(501) }],
      ['an empty video_uri', { ...SUBMIT, video_uri: '' }],
      ['an unknown field', { ...SUBMIT, priority: 'high' }],
      ['out-of-bounds overrides', { ...SUBMIT, overrides: { frames: { fps: 1000 } } }],
      ['negative overrides', { ...SUBMIT, overrides: { segment: { pad_s: -1 } } }],
    ],
  },
  ResumeRequest: {
    schema: ResumeRequest,
    sample: { resume: RID },
    wrong: [['a bad id', { resume: '../x' }]],
  },
  CancelRequest: {
    schema: CancelRequest,
    sample: { cancel: RID },
    wrong: [['a bad id', { cancel: 'a b c' }]],
  },
  StatusRequest: {
    schema: StatusRequest,
    sample: { status: RID },
    wrong: [['extra fields', { status: RID, x: 1 }]],
  },
  SearchRequest: {
    schema: SearchRequest,
    sample: { search: 'a red car', videos: [DIGEST, 'street.mp4'], limit: 5 },
    wrong: [
      ['a blank query', { search: '  ' }],
      ['a huge query', { search: 'x'.repeat(501) }],
      ['an empty videos list', { search: 'car', videos: [] }],
      ['an empty video name', { search: 'car', videos: [''] }],
      ['a limit of 0', { search: 'car', limit: 0 }],
      ['a limit over 1000', { search: 'car', limit: 1001 }],
      ['a fractional limit', { search: 'car', limit: 2.5 }],
      ['extra fields', { search: 'car', namespace: 'other' }],
    ],
  },
  StatusResponse: {
    schema: StatusResponse,
    sample: {
      request_id: RID,
      status: 'RUNNING',
      state_key: k('metadata/state.json'),
      updated_at: T1,
      error: null,
    },
    wrong: [
      ['an unknown status', { request_id: RID, status: 'DONE', state_key: 'x' }],
      ['a non-ISO time', { request_id: RID, status: 'RUNNING', state_key: 'x', updated_at: 'yesterday' }],
    ],
  },
  ErrorBody: {
    schema: ErrorBody,
    sample: { error: { code: 'INVALID_KEY', message: 'invalid object key', details: { key: '../x' } } },
    wrong: [
      ['no details', { error: { code: 'X', message: 'm' } }],
      ['an empty code', { error: { code: '', message: 'm', details: {} } }],
      ['a flat shape', { code: 'X', message: 'm', details: {} }],
    ],
  },
  ErrorInfo: { schema: ErrorInfo, sample: { code: 'STAGE_TIMEOUT', message: 'timed out', retryable: true } },
  Lease: {
    schema: Lease,
    sample: { owner: 'o-1', expires_at: T1 },
    wrong: [['an empty owner', { owner: '', expires_at: T1 }]],
  },
  TaskState: {
    schema: TaskState,
    sample: STATE.tasks['extract-audio'],
    wrong: [
      ['negative attempts', { status: 'RUNNING', attempts: -1 }],
      ['a traversal manifest key', { status: 'SUCCEEDED', attempts: 1, manifest: '../../secrets' }],
    ],
  },
  RequestState: {
    schema: RequestState,
    sample: STATE,
    wrong: [
      ['a future schema_version', { ...STATE, schema_version: 2 }],
      ['an unknown stage summary', { ...STATE, stages: { 'mine-bitcoin': STATE.stages['extract-audio'] } }],
      ['negative clips', { ...STATE, clips: -1 }],
    ],
  },
  FinalResult: {
    schema: FinalResult,
    sample: FINAL,
    wrong: [
      ['a negative score', { ...FINAL, matches: [{ ...FINAL.matches[0], score: -1 }] }],
      ['a negative start', { ...FINAL, matches: [{ ...FINAL.matches[0], start: -0.5 }] }],
      ['a traversal video key', { ...FINAL, matches: [{ ...FINAL.matches[0], video_keys: ['a/../../b'] }] }],
      ['a match spanning no clip', { ...FINAL, matches: [{ ...FINAL.matches[0], clips: [] }] }],
      ['a coverage above 1', { ...FINAL, coverage: { ...FINAL.coverage, ratio: 1.5 } }],
    ],
  },
  CallbackBody: {
    schema: CallbackBody,
    sample: {
      delivery_id: 'd-1',
      request_id: RID,
      status: 'SUCCEEDED',
      sent_at: T1,
      result: FINAL,
      error: null,
    },
    wrong: [
      [
        'an empty delivery_id',
        { delivery_id: '', request_id: RID, status: 'SUCCEEDED', sent_at: T1, result: null, error: null },
      ],
    ],
  },
  Profile: { schema: Profile, sample: PROFILES.default },
  AnyManifest: {
    schema: AnyManifest,
    sample: manifestOf('cut-clips'),
    anyType: ['output'],
    // The same checks as each stage's manifest (derived from it), but for the output.
    wrong: [
      ['a bad digest', { ...manifestOf('cut-clips'), digest: 'abc' }],
      ['an unknown stage', { ...manifestOf('cut-clips'), stage: 'read-minds' }],
    ],
  },
};

for (const stage of STAGE_NAMES) {
  const { input, output } = STAGE_SAMPLES[stage];
  const contract = STAGE_CONTRACTS[stage];
  const inputWrong: Array<[string, unknown]> = [
    ['a path-traversal request_id', { ...(input as object), request_id: '../other' }],
    ['a path-traversal namespace', { ...(input as object), namespace: '../other' }],
    ['an upper-case namespace', { ...(input as object), namespace: 'Tenant' }],
  ];
  for (const [field, value] of Object.entries(input as Record<string, unknown>)) {
    if (field.endsWith('_key')) {
      inputWrong.push([
        `${field} with ..`,
        { ...(input as object), [field]: `requests/${RID}/../../etc/passwd` },
      ]);
      inputWrong.push([`${field} absolute`, { ...(input as object), [field]: `/etc/passwd` }]);
    }
    // A container timestamp (piece_timestamp_s) may be negative: MP4 edit lists start before 0.
    const timestamp = field.endsWith('_timestamp_s');
    if (typeof value === 'number' && !timestamp && (field.endsWith('_s') || field === 'clip')) {
      inputWrong.push([`negative ${field}`, { ...(input as object), [field]: -1 }]);
    }
  }
  CASES[`${stage} input`] = { schema: contract.input, sample: input, wrong: inputWrong, allRequired: true };
  CASES[`${stage} output`] = { schema: contract.output, sample: output };
  const manifest = manifestOf(stage);
  CASES[`${stage} manifest`] = {
    schema: manifestSchema(stage),
    sample: manifest,
    wrong: [
      ['another stage name', { ...manifest, stage: stage === 'cut-clips' ? 'extract-audio' : 'cut-clips' }],
      ['a bad digest', { ...manifest, digest: 'abc' }],
      ['a future schema_version', { ...manifest, schema_version: 2 }],
      ['an output of the wrong shape', { ...manifest, output: { nope: true } }],
    ],
  };
}
// What the source copy names and hashes: the request's own input, and the digest results are keyed on.
const copied = STAGE_SAMPLES['copy-source'].output as Record<string, unknown>;
CASES['copy-source output'] = {
  schema: STAGE_CONTRACTS['copy-source'].output,
  sample: copied,
  wrong: [
    ['an absolute source key', { ...copied, source_key: '/etc/passwd' }],
    ['a traversal source key', { ...copied, source_key: `requests/${RID}/../../etc/passwd` }],
    ['a short sha256', { ...copied, sha256: 'abc' }],
    ['an uppercase sha256', { ...copied, sha256: 'A'.repeat(64) }],
    ['an empty source', { ...copied, size_bytes: 0 }],
    ['no name', { ...copied, name: '' }],
  ],
};

/** A value of a different type than `v`. */
function wrongTypeFor(v: unknown): unknown {
  if (typeof v === 'string') return 12_345;
  if (typeof v === 'number') return 'not a number';
  if (typeof v === 'boolean') return 'yes';
  if (Array.isArray(v)) return { not: 'an array' };
  if (v === null) return 'text where null or an object belongs';
  return 'not an object';
}

describe.each(Object.entries(CASES))(
  '%s',
  (_name, { schema, sample, wrong = [], anyType = [], allRequired }) => {
    it('accepts a realistic sample', () => {
      const parsed = schema.safeParse(sample);
      expect(parsed.error?.issues ?? []).toEqual([]);
    });

    const fields = sample && typeof sample === 'object' && !Array.isArray(sample) ? Object.keys(sample) : [];
    const required = fields.filter((f) => {
      const copy = { ...(sample as Record<string, unknown>) };
      delete copy[f];
      return !schema.safeParse(copy).success;
    });

    it('has required fields (dropping one is rejected)', () => {
      // Computed from the schema, so assert it found some: a schema that accepts
      // anything would otherwise pass this sweep vacuously.
      if (fields.length > 0) expect(required.length).toBeGreaterThan(0);
      if (allRequired) expect(required).toEqual(fields);
    });

    it.each(fields.filter((f) => !anyType.includes(f)))('rejects a wrong type for %s', (field) => {
      const s = sample as Record<string, unknown>;
      expect(schema.safeParse({ ...s, [field]: wrongTypeFor(s[field]) }).success).toBe(false);
    });

    if (wrong.length > 0) {
      it.each(wrong)('rejects %s', (_what, value) => {
        expect(schema.safeParse(value).success).toBe(false);
      });
    }

    it('rejects non-objects', () => {
      for (const v of [null, undefined, 'text', 42, []]) expect(schema.safeParse(v).success).toBe(false);
    });
  },
);

describe('required fields that must never become optional', () => {
  it.each([
    [SubmitRequest, SUBMIT, ['video_uri', 'query']],
    [RequestState, STATE, ['schema_version', 'request_id', 'status', 'lease', 'tasks']],
    [FinalResult, FINAL, ['schema_version', 'request_id', 'matches', 'error']],
    [ErrorBody, CASES.ErrorBody!.sample, ['error']],
  ] as Array<[z.ZodType, Record<string, unknown>, string[]]>)('%#', (schema, sample, fields) => {
    for (const f of fields) {
      const copy = { ...sample };
      delete copy[f];
      expect(schema.safeParse(copy).success, f).toBe(false);
    }
  });
});

describe('SubmitRequest details', () => {
  it('defaults the profile and trims the query', () => {
    const parsed = SubmitRequest.parse({ video_uri: 'v.mp4', query: '  cat  ' });
    expect(parsed).toEqual({ video_uri: 'v.mp4', query: 'cat', profile: 'default' });
  });
  it('OrchestratorCall tells the five call kinds apart', () => {
    expect(OrchestratorCall.parse({ resume: RID })).toEqual({ resume: RID });
    expect(OrchestratorCall.safeParse({ resume: RID, cancel: RID }).success).toBe(false);
    expect(OrchestratorCall.parse({ search: ' car ' })).toEqual({ search: 'car', limit: 20 });
    expect(OrchestratorCall.safeParse({ search: 'car', status: RID }).success).toBe(false);
  });
});

describe('building blocks', () => {
  it.each(['a/b', k('input/x.mp4')])('ObjectKey accepts %j', (key) =>
    expect(ObjectKey.safeParse(key).success).toBe(true),
  );
  it.each(['', '../a', '/a', 'a//b', 'a/./b'])('ObjectKey rejects %j', (key) =>
    expect(ObjectKey.safeParse(key).success).toBe(false),
  );
  it.each(['../x', 'a', 'a b', ''])('RequestId rejects %j', (id) =>
    expect(RequestId.safeParse(id).success).toBe(false),
  );
  it('TimeRange rejects start after end and negative seconds', () => {
    expect(TimeRange.safeParse([1, 2]).success).toBe(true);
    expect(TimeRange.safeParse([2, 1]).success).toBe(false);
    expect(TimeRange.safeParse([-1, 2]).success).toBe(false);
    expect(TimeRange.safeParse([0, Number.POSITIVE_INFINITY]).success).toBe(false);
  });
  it('ProfileOverrides accepts a partial section and rejects unknown keys', () => {
    expect(ProfileOverrides.safeParse({ run: { stage_timeout_s: { 'cut-clips': 10 } } }).success).toBe(true);
    expect(ProfileOverrides.safeParse({ run: { stage_timeout_s: { 'cut-clipz': 10 } } }).success).toBe(false);
  });
});
