import { defineConfig } from 'vitest/config';

// Unit tests of the designer's modules (test/), in Node. The properties panel's Preact
// imports a directory, which Node's ESM loader refuses: Vite transforms it instead.
export default defineConfig({
  test: {
    include: ['test/**/*.test.js'],
    server: { deps: { inline: [/@bpmn-io\/properties-panel/] } },
  },
});
