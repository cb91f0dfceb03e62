import type { Config } from '../core/config/index.js';
import { log } from '../core/log.js';
import type { ObjectStore } from '../core/ports.js';
import { recordServedEntities } from '../core/served-entities.js';
import { type ServingStateStore, seedServingState } from '../core/serving-state.js';

/** What the deploy-time recorder needs; the wiring module provides it. */
export interface ServedEntitiesDependencies {
  readonly config: Config;
  readonly store: ObjectStore;
  /** The serving state, seeded from the configuration. */
  readonly serving: ServingStateStore;
  readonly now?: () => number;
}

/** The fields of a CloudFormation custom-resource event the recorder reads. */
export interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
}

/** What the provider framework reports back to CloudFormation. */
export interface CustomResourceResult {
  readonly PhysicalResourceId: string;
  readonly Data?: Readonly<Record<string, string>>;
}

/** One resource per stack: its id stays, so an update is never a replacement. */
const PHYSICAL_ID = 'served-entities-history';

/**
 * The custom resource that seeds the serving state from the deployed configuration and records
 * its served entities at each deploy that changes them (its property is their version): a file
 * appended to `served_entities_history/`. A stack deletion records nothing; the history is data, kept
 * with the bucket. A failure fails the deploy, which then rolls back, so a deployed
 * configuration is never missing from the table.
 */
export function servedEntitiesRecorder(deps: ServedEntitiesDependencies): (event: CustomResourceEvent) => Promise<CustomResourceResult> {
  return async (event) => {
    if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId ?? PHYSICAL_ID };
    const now = (deps.now ?? Date.now)();
    // A deploy that changed the models or endpoints replaces the runtime state; one that did not keeps it.
    const seeded = await seedServingState(deps.config, deps.serving, now);
    const recorded = await recordServedEntities(deps.store, seeded.config, now);
    log('info', 'served entities recorded', { configVersion: recorded.configVersion, written: recorded.written, key: recorded.key });
    return { PhysicalResourceId: PHYSICAL_ID, Data: { ConfigVersion: recorded.configVersion } };
  };
}
