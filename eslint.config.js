// Lint rules: typescript-eslint's recommended set, plus the few rules that catch real bugs here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'hub/dashboard/vendor/**', 'common/generated/**', 'test-output/**', 'bench/out/**'] },
  js.configs.recommended,
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } } },
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', document: 'readonly', window: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  // The hub's store is async (SQLite or PostgreSQL): a store call that is neither awaited nor explicitly
  // voided would lose its error (an unhandled rejection) and its ordering. Type-aware, for hub/ and cli/.
  {
    files: ['hub/**/*.ts', 'cli/**/*.ts'],
    ignores: ['**/*.test.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
    },
  },
  // All SQL lives in hub/store/ behind repositories (issue #23): nothing else imports a database client or
  // reaches the store's SQLite connection.
  {
    files: ['hub/**/*.ts', 'cli/**/*.ts'],
    ignores: ['**/*.test.ts', 'hub/store/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [
        { name: 'better-sqlite3', message: 'SQL lives in hub/store/ (a repository over hub/store/sql/sql.ts)' },
        { name: 'pg', message: 'SQL lives in hub/store/ (a repository over hub/store/sql/sql.ts)' },
      ] }],
      'no-restricted-syntax': ['error',
        { selector: "MemberExpression[property.name='db'][object.name='store']", message: 'the store hands out no database: use a repository (store.<area>)' },
        { selector: "MemberExpression[property.name='db'][object.property.name='store']", message: 'the store hands out no database: use a repository (store.<area>)' },
      ],
    },
  },
  // Walls (STYLE.md): common/ imports nothing of ours; agent/ and hub/ never import each other; what both
  // need lives in common/. Tests may cross them (an agent test may start a hub).
  ...[
    ['common', ['agent', 'hub', 'cli']],
    ['agent', ['hub', 'cli']],
    ['hub', ['agent', 'cli']],
  ].map(([dir, banned]) => ({
    files: [`${dir}/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: banned.map((b) => `**/${b}/**`), message: `${dir}/ may not import ${banned.map((b) => `${b}/`).join(', ')}: what both sides need goes to common/ (STYLE.md, walls)` }],
      }],
    },
  })),
);
