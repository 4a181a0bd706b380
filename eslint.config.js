// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      '.build/',
      'node_modules/',
      'bench/results/',
      'coverage/',
      '**/cdk.out/',
      'docs/.vitepress/dist/',
      'docs/.vitepress/cache/',
      'docs/public/api/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A promise nobody awaits is work still running after its call returned: say so with `void`.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // Nest's and the AWS SDK's types are loose where listeners and middleware take any arguments.
      '@typescript-eslint/no-explicit-any': 'off',
      // Decorated classes and empty Nest modules are the framework's idiom.
      '@typescript-eslint/no-extraneous-class': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The engine stays inside cache/: everything else goes through the ports the cache hands out.
    files: ['src/**/*.ts'],
    ignores: ['src/cache/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/cache/cache-core.js', '**/cache/flights.js', '**/cache/tag-invalidation.js', '**/cache/local-tier.js'],
              message: "The cache's engine is cache/'s own: use a port (cache.forRoutes(), forSessions(), ...; see cache-ports.ts).",
            },
            {
              group: ['**/cache/dynamo-cache.js'],
              importNames: ['engineOf'],
              message: "The cache's engine is cache/'s own: use a port (cache.forRoutes(), forSessions(), ...; see cache-ports.ts).",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
