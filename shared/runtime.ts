/**
 * Wires the adapters a function needs from its configuration, once per process. Lambda handlers
 * and the local stack both build their dependencies here, so the code that runs locally is the
 * code that ships. This is the runtime with every store; runtime-core.ts builds it.
 */
import { createRuntimeWith, type AwsOverrides, type Runtime as RuntimeWith } from './runtime-core.ts';
import { createStore, type Store } from './store/store.ts';

export { createAwsClients, once, type AwsClients, type AwsOverrides } from './runtime-core.ts';

export type Runtime = RuntimeWith<Store>;

export function createRuntime(env: Record<string, string | undefined> = process.env, overrides: AwsOverrides = {}): Promise<Runtime> {
  return createRuntimeWith(createStore, env, overrides);
}
