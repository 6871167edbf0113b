import tailwindcss from '@tailwindcss/vite';
import { defineConfig } from 'vite';

// React's JSX is compiled by Vite's own esbuild (no plugin needed for a production build).
// "source" lets @protocol/sdk be bundled from its TypeScript, so no build order matters.
export default defineConfig({
  plugins: [tailwindcss()],
  esbuild: { jsx: 'automatic' },
  resolve: { conditions: ['source', 'browser', 'module', 'import', 'default'] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    rollupOptions: {
      // React libraries' "use client" directives mean nothing in a plain SPA bundle.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE' || warning.code === 'SOURCEMAP_ERROR') return;
        warn(warning);
      },
    },
  },
  server: { proxy: { '/v1': 'http://127.0.0.1:8080', '/files': 'http://127.0.0.1:8080' } },
});
