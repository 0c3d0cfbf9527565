// Client routes; the node answers each with index.html (api/console.py), so reloads work.
import { createRouter, createWebHistory } from "vue-router";
import { session, whoAmI } from "./api/session";

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: "/", redirect: "/workbench" },
    { path: "/login", name: "login", component: () => import("./pages/LoginPage.vue"), meta: { public: true } },
    // the OIDC provider's redirect back (decision 035): before the catch-all below
    { path: "/login/callback", name: "oidc-callback", component: () => import("./pages/OidcCallback.vue"), meta: { public: true } },
    { path: "/workbench", name: "workbench", component: () => import("./pages/WorkbenchPage.vue") },
    { path: "/cases/:id", name: "case", component: () => import("./pages/CasePage.vue"), props: true },
    { path: "/intake", name: "intake", component: () => import("./pages/IntakePage.vue") },
    { path: "/ops", name: "ops", component: () => import("./pages/OpsPage.vue") },
    { path: "/supervision", name: "supervision", component: () => import("./pages/SupervisionPage.vue") },
    { path: "/stats", name: "stats", component: () => import("./pages/StatsPage.vue") },
    { path: "/audit", name: "audit", component: () => import("./pages/AuditPage.vue") },
    { path: "/:rest(.*)*", redirect: "/workbench" },
  ],
});

router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  if (!session.checked) await whoAmI().catch(() => null);
  if (!session.me) return { name: "login", query: { next: to.fullPath } };
  return true;
});
