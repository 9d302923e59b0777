/**
 * Whose namespace a call works in. Without CLIPSEEK_TENANT_HEADER every caller
 * shares the deployment's (CLIPSEEK_NAMESPACE). With it, the API gateway in
 * front names the caller in that header (a slug it derives from the API key,
 * replacing any value the client sent), and that slug is the namespace: the
 * caller's requests, results and video index are its own, and another
 * tenant's request is not found. Nothing is hashed: the slug shows in the
 * bucket's keys, so it must not be the API key itself (README: Tenancy).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Namespace } from '../../common/contracts/common.js';
import { InputError } from '../../common/errors.js';
import { firstHeader } from '../../common/openfaas/http.js';
import type { OrchestratorConfig } from './config.js';

export interface Caller {
  namespace: string;
  /** True when the namespace came from the tenant header: the caller sees only its own requests. */
  tenant: boolean;
}

/** The caller of a call; `optional`: a call without the header is the deployment's own (resume). */
export function callerOf(
  headers: IncomingHttpHeaders,
  config: Pick<OrchestratorConfig, 'namespace' | 'tenantHeader'>,
  optional = false,
): Caller | undefined {
  const name = config.tenantHeader;
  if (name === undefined) return { namespace: config.namespace, tenant: false };
  const value = firstHeader(headers[name]);
  if (value === undefined) {
    if (optional) return undefined;
    throw new InputError(
      'TENANT_REQUIRED',
      `this deployment needs the ${name} header (set by its API gateway)`,
      {
        status: 400,
        details: { header: name },
      },
    );
  }
  if (!Namespace.safeParse(value).success) {
    throw new InputError('TENANT_INVALID', `${name}: 1-63 of [a-z0-9-], starting with a letter or digit`, {
      status: 400,
      details: { header: name },
    });
  }
  return { namespace: value, tenant: true };
}
