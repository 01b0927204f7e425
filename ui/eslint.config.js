// ESLint: typescript-eslint strict, type-checked, plus the React hooks rules.
import js from '@eslint/js';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist', 'public', 'node_modules'] },
  {
    files: ['**/*.{ts,tsx}'],
    extends: [js.configs.recommended, ...tseslint.configs.strictTypeChecked],
    languageOptions: {
      ecmaVersion: 2022,
      globals: globals.browser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      // Nothing goes to the console: a log line could carry patient data.
      'no-console': 'error',
      // Alert content is never written to disk, and the webview's storage is disk.
      'no-restricted-globals': [
        'error',
        ...['localStorage', 'sessionStorage', 'indexedDB', 'caches'].map(
          (name) => ({ name, message: 'Patient data must never be stored in the webview.' }),
        ),
      ],
      'no-restricted-properties': [
        'error',
        ...['localStorage', 'sessionStorage', 'indexedDB', 'caches'].map((property) => ({
          object: 'window',
          property,
          message: 'Patient data must never be stored in the webview.',
        })),
        { object: 'document', property: 'cookie', message: 'No cookies: nothing is stored.' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "JSXAttribute[name.name='dangerouslySetInnerHTML']",
          message: 'Render text, never HTML.',
        },
        {
          selector: 'Literal[value=/^(https?|wss?):/i], TemplateElement[value.raw=/(https?|wss?):\\/\\//i]',
          message: 'No remote addresses: the CSP allows only the app itself.',
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@tauri-apps/api/core',
              importNames: ['invoke'],
              message: 'Only src/backend/ may call invoke.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/backend/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
