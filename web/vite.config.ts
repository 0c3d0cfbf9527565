// The console's build (decision 029): one bundle set into the Python package's web_dist/,
// served by the node at / with the API on the same origin. Nothing is fetched at run time.
import { fileURLToPath } from "node:url";
import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [vue()],
  base: "/",
  build: {
    outDir: fileURLToPath(new URL("../services/xinfang/web_dist", import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      output: {
        // Element Plus and ECharts change less often than the pages: their own cached files.
        manualChunks(id: string) {
          if (id.includes("node_modules/echarts") || id.includes("node_modules/zrender")) return "echarts";
          if (id.includes("node_modules/element-plus") || id.includes("@element-plus")) return "element-plus";
          if (id.includes("node_modules/")) return "vendor";
          return undefined;
        },
      },
    },
  },
  server: {
    // `npm run dev`: the node's API on its usual local port (XF_NODE_URL to change it)
    proxy: {
      "/api": process.env.XF_NODE_URL ?? "http://127.0.0.1:6066",
      "/health": process.env.XF_NODE_URL ?? "http://127.0.0.1:6066",
    },
  },
});
