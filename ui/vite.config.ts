/// <reference types="vitest/config" />
// Vite builds the UI into ui/dist, which the Tauri app embeds; Vitest runs the unit tests.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { cpSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

// nhsuk-frontend's images are served from the app itself (no remote origins under the CSP).
function copyNhsukAssets() {
  return {
    name: 'copy-nhsuk-assets',
    buildStart() {
      cpSync(
        `${here}node_modules/nhsuk-frontend/dist/nhsuk/assets`,
        `${here}public/nhsuk-assets`,
        { recursive: true },
      );
    },
  };
}

export default defineConfig({
  plugins: [react(), copyNhsukAssets()],
  clearScreen: false,
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
  css: {
    preprocessorOptions: {
      scss: { loadPaths: [`${here}node_modules`], quietDeps: true },
    },
  },
  build: {
    outDir: 'dist',
    target: 'es2022',
    // Vite 8's CSS minifier fails on nhsuk-frontend's stylesheet.
    cssMinify: false,
    sourcemap: false,
    // Compiling nhsuk-frontend's Sass takes seconds; that is expected, not worth a warning.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    css: false,
    // axe over a full result takes a while on a loaded machine.
    testTimeout: 30_000,
  },
});
