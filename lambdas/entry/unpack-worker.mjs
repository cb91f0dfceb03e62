// Entry of an unpack worker thread: loads the TypeScript worker through tsx, as the CLI does.
import { register } from 'tsx/esm/api';

register();
await import('./unpack-worker.ts');
