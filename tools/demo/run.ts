/**
 * The main job, on any machine, with nothing sent off it: a registry on 127.0.0.1 stands in for
 * Gitea's, and stand-in base images for Docker Hub. Then the real thing runs against them:
 * `nx run-many -t docker-push` twice (the second run finds every image in the registry and builds
 * nothing), and the registry's own tag lists are printed.
 */
import { join } from 'node:path';
import { execa } from 'execa';
import { startImageTestbed } from '@changemaker/testing';

const workspaceRoot = join(__dirname, '../..');

async function main(): Promise<void> {
  const { registry, hub, nxEnv: env, stop } = await startImageTestbed();
  try {
    console.log(`registry: ${registry.host} (stands in for Gitea's), base images from ${hub.host} (stands in for Docker Hub)`);
    for (const run of ['first run: builds and pushes every service', 'second run: the registry already has every image']) {
      console.log(`\n== ${run}`);
      await execa('npx', ['nx', 'run-many', '-t', 'docker-push', '--outputStyle=stream'], { cwd: workspaceRoot, env, stdio: 'inherit' });
    }
    const catalog = (await (await fetch(`${registry.url}/v2/_catalog`)).json()) as { repositories: string[] };
    console.log('\nin the registry:');
    for (const repository of catalog.repositories) {
      const { tags } = (await (await fetch(`${registry.url}/v2/${repository}/tags/list`)).json()) as { tags: string[] };
      console.log(`  ${repository}: ${tags.filter((tag) => !tag.startsWith('inputs-')).join(', ')}`);
    }
  } finally {
    await stop();
  }
}

main().catch((error: Error) => {
  console.error(`demo failed: ${error.message}`);
  process.exit(1);
});
