// Builds the page into dist/ with fixed file names (assets/app.js, assets/app.css) and no
// timestamps, so the committed bundle is byte-for-byte what `npm ci && npm run build` makes.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    cssCodeSplit: false,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      output: {
        entryFileNames: "assets/app.js",
        chunkFileNames: "assets/app-[name].js",
        assetFileNames: (info) =>
          (info.names ?? []).some((name) => name.endsWith(".css")) ? "assets/app.css" : "assets/[name][extname]",
        codeSplitting: false,
      },
    },
  },
});
