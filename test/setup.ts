import { setLogLevel } from '../lambdas/core/log.js';

// Tests provoke failures on purpose; their log lines would only be noise.
setLogLevel('error');
if (process.env.TEST_LOG === '1') setLogLevel('debug');
