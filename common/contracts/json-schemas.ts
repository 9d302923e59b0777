import { z } from 'zod';
import { CallbackBody } from './callback.js';
import { ErrorBody } from './common.js';
import { FinalResult } from './final.js';
import { FUNCTION_STAGES } from './pipeline.js';
import { Profile } from './profile.js';
import { OrchestratorCall, RequestPage, StatusResponse, SubmitRequest } from './request.js';
import { manifestSchema, STAGE_CONTRACTS } from './stages.js';
import { RequestState } from './state.js';
import { SearchResult, VideoIndexDocument } from './video-index.js';

/** Every published schema, by file name (without .json). `npm run schemas` writes them to schemas/. */
export function jsonSchemas(): Record<string, unknown> {
  const schemas: Record<string, z.ZodType> = {
    'orchestrator-request': SubmitRequest,
    'orchestrator-call': OrchestratorCall,
    'status-response': StatusResponse,
    'list-response': RequestPage,
    state: RequestState,
    final: FinalResult,
    callback: CallbackBody,
    error: ErrorBody,
    profile: Profile,
    'video-index': VideoIndexDocument,
    'search-result': SearchResult,
  };
  // A function's contract is what a caller of it sends and gets back; copy-source is no function.
  for (const stage of FUNCTION_STAGES) {
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
