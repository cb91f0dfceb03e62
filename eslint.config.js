// The linter keeps the layers pointing one way (see the README's "Layout"): core imports only
// core and shared; shared imports nothing of the project; adapters never import wiring or
// entry points; handlers and steps never construct adapters; lib/ (the infrastructure) imports
// only lambdas/core and lambdas/shared, and nothing under lambdas/ imports lib/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** An import that leaves the allowed layers, with the rule it breaks. */
const forbid = (regex, message) => ({ regex, message });

const NOT_LIB = forbid('^(\\.\\./)+lib/', 'Runtime code never imports lib/ (the infrastructure); pass what it needs from an entry point.');
const NO_AWS_IN_CORE = forbid('^(aws-cdk-lib|constructs$|@aws-sdk/)', 'core has no AWS imports: it is the domain, the adapters talk to AWS.');

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'coverage/', '.inference-tables*/', 'test/fixtures/**/*.json'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['lambdas/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [forbid('(^|/)(adapters|wiring|entry|scoring|workflow|cli|backends|redrive|deploy)/', 'core imports only core and shared.'), NOT_LIB, NO_AWS_IN_CORE] }],
    },
  },
  {
    files: ['lambdas/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [forbid('^\\.\\./', 'shared is the bottom layer: it imports nothing of the project outside shared.'), NOT_LIB] }],
    },
  },
  {
    files: ['lambdas/adapters/**/*.ts', 'lambdas/backends/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [forbid('(^|/)(wiring|entry|cli)/', 'adapters never import the wiring, the entry points or the command line.'), NOT_LIB] }],
    },
  },
  {
    files: ['lambdas/scoring/**/*.ts', 'lambdas/workflow/**/*.ts', 'lambdas/redrive/**/*.ts', 'lambdas/deploy/**/*.ts', 'lambdas/ui/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [forbid('(^|/)(adapters|wiring|entry|cli)/', 'handlers and steps get their ports from a wiring module; they construct no adapter.'), NOT_LIB] },
      ],
    },
  },
  {
    files: ['lambdas/wiring/**/*.ts', 'lambdas/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [forbid('(^|/)entry/', 'entry points sit above the wiring.'), NOT_LIB] }],
    },
  },
  {
    files: ['lambdas/entry/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NOT_LIB] }] },
  },
  {
    files: ['lib/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [forbid('(^|/)lambdas/(?!core/|shared/)', 'lib/ imports only lambdas/core and lambdas/shared.')] }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        ...['describe', 'it', 'test'].flatMap((object) => ['only', 'skip', 'todo'].map((property) => ({ object, property, message: 'No focused, skipped or empty tests: every test runs in CI.' }))),
      ],
    },
  },
  {
    // The endpoint page's scripts run in the browser, as ES modules.
    files: ['lambdas/ui/assets/*.js'],
    languageOptions: { sourceType: 'module', globals: Object.fromEntries(['document', 'window', 'location', 'fetch', 'URL', 'URLSearchParams', 'FormData', 'Blob', 'Node', 'HashChangeEvent', 'setTimeout', 'clearTimeout'].map((g) => [g, 'readonly'])) },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
