/** Every case of the Athena corpus, in file order (the test and `bench/sql.ts` read this list). */
import { cases as aggregates } from './aggregates.cases.js';
import { cases as arithmetic } from './arithmetic.cases.js';
import { cases as dates } from './dates.cases.js';
import { cases as errors } from './errors.cases.js';
import type { Case } from './fixture.js';
import { cases as json } from './json.cases.js';
import { cases as metadata } from './metadata.cases.js';
import { cases as metrics } from './metrics.cases.js';
import { cases as payload } from './payload.cases.js';
import { cases as semantics } from './semantics.cases.js';
import { cases as strings } from './strings.cases.js';
import { cases as tables } from './tables.cases.js';
import { cases as unnest } from './unnest.cases.js';

export const ALL_CASES: readonly Case[] = [...payload, ...json, ...unnest, ...dates, ...arithmetic, ...strings, ...aggregates, ...metadata, ...errors, ...tables, ...metrics, ...semantics];
