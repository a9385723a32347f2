// apps/admin/src/health-check.ts
var HEALTH_ROUTES = [
  { service: "api", path: "/api/health" },
  { service: "media-api", path: "/media/api/health" }
];
async function checkHealth(service, url) {
  try {
    const response = await fetch(url, { headers: { accept: "application/json" } });
    if (!response.ok) return { service, up: false, detail: `HTTP ${response.status}` };
    const answer = await response.json();
    if (answer.status !== "ok") return { service, up: false, detail: `status ${String(answer.status)}` };
    return { service, up: true, detail: `version ${String(answer.version)}, commit ${String(answer.commit)}` };
  } catch (error) {
    return { service, up: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

// apps/admin/src/main.ts
function renderRow({ service, up, detail }) {
  const row = document.createElement("li");
  row.className = up ? "up" : "down";
  const name = document.createElement("strong");
  name.textContent = service;
  row.append(name, ` ${up ? "up" : "down"}: ${detail}`);
  return row;
}
async function showServiceHealth(list2) {
  const results = await Promise.all(HEALTH_ROUTES.map(({ service, path }) => checkHealth(service, path)));
  list2.replaceChildren(...results.map(renderRow));
}
var list = document.getElementById("services");
if (list) void showServiceHealth(list);
