// ESLint's recommended rules for the designer's sources and unit tests (browser modules).
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['dist/', 'node_modules/'] },
  js.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.browser } },
    rules: { 'no-unused-vars': ['error', { args: 'none', caughtErrors: 'none' }] },
  },
  { files: ['test/**/*.js', 'vite.config.js', 'vitest.config.js', 'eslint.config.js'], languageOptions: { globals: { ...globals.node } } },
];
