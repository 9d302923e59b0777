export { type Gateway, type GatewayOptions, startGateway } from './gateway.js';
export { type FunctionSpec, type LoadedStack, loadStack } from './stack.js';
