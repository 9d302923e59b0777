import { z } from 'zod';
import { CallbackBody } from './callback.js';
import { ErrorBody } from './common.js';
import { FinalResult } from './final.js';
import { STAGE_NAMES } from './pipeline.js';
import { Profile } from './profile.js';
import { OrchestratorCall, StatusResponse, SubmitRequest } from './request.js';
import { manifestSchema, STAGE_CONTRACTS } from './stages.js';
import { RequestState } from './state.js';
import { SearchResult, VideoIndexDocument } from './video-index.js';

/** Every published schema, by file name (without .json). `npm run schemas` writes them to schemas/. */
export function jsonSchemas(): Record<string, unknown> {
  const schemas: Record<string, z.ZodType> = {
    'orchestrator-request': SubmitRequest,
    'orchestrator-call': OrchestratorCall,
    'status-response': StatusResponse,
    state: RequestState,
    final: FinalResult,
    callback: CallbackBody,
    error: ErrorBody,
    profile: Profile,
    'video-index': VideoIndexDocument,
    'search-result': SearchResult,
  };
  for (const stage of STAGE_NAMES) {
    schemas[`stage-${stage}-input`] = STAGE_CONTRACTS[stage].input;
    schemas[`stage-${stage}-output`] = STAGE_CONTRACTS[stage].output;
    schemas[`stage-${stage}-manifest`] = manifestSchema(stage);
  }
  return Object.fromEntries(
    Object.entries(schemas)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, schema]) => [name, z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' })]),
  );
}
