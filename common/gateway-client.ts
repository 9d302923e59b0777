import { got } from 'got';
import { readSecret } from './config.js';

/** The Authorization header for a gateway that requires basic auth (OpenFaaS secrets basic-auth-user/-password). */
export function gatewayAuthorization(env: NodeJS.ProcessEnv): string | undefined {
  const user = readSecret('basic-auth-user', env);
  const password = readSecret('basic-auth-password', env);
  return user && password ? `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` : undefined;
}

/** POST /async-function/<name>: the gateway answers 202 at once and runs the call later. */
export async function invokeAsync(
  gatewayUrl: string,
  functionName: string,
  body: unknown,
  auth: string | undefined,
): Promise<void> {
  await got.post(`${gatewayUrl.replace(/\/+$/, '')}/async-function/${functionName}`, {
    json: body,
    headers: auth ? { authorization: auth } : {},
    retry: { limit: 3, methods: ['POST'] },
    timeout: { request: 10_000 },
  });
}
