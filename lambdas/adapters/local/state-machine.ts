import { StateMachine } from 'aws-local-stepfunctions';

// aws-local-stepfunctions uses Promise.withResolvers (Node 22); Node 20 lacks it.
if (!('withResolvers' in Promise)) {
  Object.defineProperty(Promise, 'withResolvers', {
    value<T>() {
      let resolve!: (v: T) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
      return { promise, resolve, reject };
    },
  });
}

/** A JSON value passed between states. */
type JSONValue = Parameters<StateMachine['run']>[0];

/** Progress of a run, state by state. */
export interface StateProgress {
  readonly state: string;
  readonly kind: 'entered' | 'exited' | 'failed' | 'retried';
  readonly detail?: string;
}

/** A run of a definition on this machine. */
export interface StateMachineRun {
  /** The Amazon States Language definition, as CDK synthesizes it. */
  readonly definition: Record<string, unknown>;
  /** The function behind each Task state, by state name (the states' resources are never called). */
  readonly tasks: Readonly<Record<string, (input: unknown) => Promise<unknown>>>;
  readonly input: unknown;
  readonly onProgress?: (p: StateProgress) => void;
}

/** The run failed: the message is the failed state's error, the cause the interpreter's. */
export class StateMachineRunError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StateMachineRunError';
  }
}

/**
 * Runs a definition in aws-local-stepfunctions (the local stand-in for Step Functions), its
 * Task states bound to functions in process, with retries taken at once.
 * @throws StateMachineRunError when the run fails
 */
export async function runStateMachine(run: StateMachineRun): Promise<unknown> {
  const machine = new StateMachine(run.definition as never, { validationOptions: { checkArn: false } });
  const noPause = Object.fromEntries(Object.keys(run.tasks).map((s) => [s, 0]));
  const execution = machine.run(run.input as JSONValue, {
    overrides: { taskResourceLocalHandlers: run.tasks as Record<string, (input: JSONValue) => Promise<JSONValue>>, retryIntervalOverrides: noPause },
  });
  const progress = (async () => {
    for await (const event of execution.eventLogs) {
      if (!run.onProgress || !('state' in event)) continue;
      const kind = event.type === 'StateEntered' ? 'entered' : event.type === 'StateExited' ? 'exited' : event.type === 'StateFailed' ? 'failed' : event.type === 'StateRetried' ? 'retried' : undefined;
      if (kind) run.onProgress({ state: event.state.name, kind, detail: 'Error' in event ? String(event.Error) : undefined });
    }
  })();
  try {
    return await execution.result;
  } catch (error) {
    const failure = (error as { cause?: { message?: string } }).cause;
    throw new StateMachineRunError(failure?.message ?? (error as Error).message, { cause: error });
  } finally {
    await progress.catch(() => undefined);
  }
}
