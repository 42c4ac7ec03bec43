import { defineConfig } from 'vite';

// Workspace packages are bundled from their TypeScript sources, like the tests run them.
export default defineConfig({
  resolve: { conditions: ['@fleetwire/source', 'module', 'browser', 'development|production'] },
  build: { outDir: 'dist/site', emptyOutDir: true, chunkSizeWarningLimit: 200 },
  server: {
    proxy: {
      '/ws': { target: 'ws://127.0.0.1:8080', ws: true },
      '/api': 'http://127.0.0.1:8080',
      '/v1': 'http://127.0.0.1:8080',
      '/metrics': 'http://127.0.0.1:8080',
    },
  },
});
