import { defineConfig } from 'vite';

// `npm run dev` proxies the API and socket.io to a `dealflow run` on port 5000.
export default defineConfig({
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 3000 },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:5000',
      '/socket.io': { target: 'ws://127.0.0.1:5000', ws: true },
    },
  },
});
