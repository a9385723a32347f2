/// <reference lib="dom" />
// The root tsconfig type-checks every project with the Node libraries only; this file runs in a browser.
import { HEALTH_ROUTES, ServiceHealth, checkHealth } from './health-check';

function renderRow({ service, up, detail }: ServiceHealth): HTMLLIElement {
  const row = document.createElement('li');
  row.className = up ? 'up' : 'down';
  const name = document.createElement('strong');
  name.textContent = service;
  row.append(name, ` ${up ? 'up' : 'down'}: ${detail}`);
  return row;
}

async function showServiceHealth(list: HTMLElement): Promise<void> {
  const results = await Promise.all(HEALTH_ROUTES.map(({ service, path }) => checkHealth(service, path)));
  list.replaceChildren(...results.map(renderRow));
}

const list = document.getElementById('services');
if (list) void showServiceHealth(list);
