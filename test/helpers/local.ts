/**
 * The local world as the command's entry point composes it: the stack and the refresh run
 * with the refresh definition synthesized from `lib/`, so tests call them as users' commands do.
 */
import { type LocalStack, type LocalStackOptions, startLocalStack as startStack } from '../../lambdas/wiring/local.js';
import { type LocalRefreshOptions, type RefreshResult, runLocalRefresh as runRefresh } from '../../lambdas/wiring/local-refresh.js';
import { localRefreshDefinition } from '../../lib/refresh-definition.js';

/** Starts the local stack, its scheduled refresh running the synthesized definition. */
export function startLocalStack(options: Omit<LocalStackOptions, 'refreshDefinition'>): Promise<LocalStack> {
  return startStack({ ...options, refreshDefinition: localRefreshDefinition });
}

/** Runs a local refresh of the synthesized definition. */
export function runLocalRefresh(options: Omit<LocalRefreshOptions, 'definition'>): Promise<RefreshResult> {
  return runRefresh({ ...options, definition: localRefreshDefinition });
}
