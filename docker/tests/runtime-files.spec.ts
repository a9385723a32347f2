import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';

const dockerDir = join(__dirname, '..');

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(join(dockerDir, directory), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(path)));
    else files.push(path);
  }
  return files;
}

async function shellScripts(): Promise<string[]> {
  return ['config.sh', ...(await filesUnder('scripts')).filter((path) => path.endsWith('.sh'))];
}

describe('shell scripts', () => {
  it('include the init, backup, install and upgrade scripts, executable; the files they source are not, as run they would do nothing', async () => {
    const scripts = await shellScripts();
    expect(scripts).toEqual(expect.arrayContaining(['scripts/backup.sh', 'scripts/install.sh', 'scripts/upgrade.sh', 'scripts/init-db/01-create-databases.sh', 'scripts/env-file.sh']));
    for (const script of scripts) {
      const runnable = (await readFile(join(dockerDir, script), 'utf8')).startsWith('#!');
      expect({ script, executable: ((await stat(join(dockerDir, script))).mode & 0o111) !== 0 }).toEqual({ script, executable: runnable });
    }
  });

  it('parse with bash -n', async () => {
    for (const script of await shellScripts()) await execa('bash', ['-n', script], { cwd: dockerDir });
  });

  it('pass shellcheck', async () => {
    const result = await execa('shellcheck', ['--format=gcc', '--external-sources', ...(await shellScripts())], { cwd: dockerDir, reject: false });
    expect(result.stdout).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it('shellcheck does catch a faulty script, so the check above can fail', async () => {
    const result = await execa('shellcheck', ['-s', 'bash', '-'], { input: 'rm -rf $dir/*\n', reject: false });
    expect(result.exitCode).not.toBe(0);
  });
});

describe('configs', () => {
  it('every YAML and JSON file parses', async () => {
    const files = [...(await filesUnder('configs')), 'mkdocs/mkdocs.yml'];
    for (const file of files) {
      const text = await readFile(join(dockerDir, file), 'utf8');
      if (/\.ya?ml$/.test(file)) expect(() => parse(text)).not.toThrow();
      else if (file.endsWith('.json')) expect(() => JSON.parse(text)).not.toThrow();
    }
  });

  it('prometheus scrapes the exporters and loads its rule file; alertmanager routes to a defined receiver', async () => {
    const prometheus = parse(await readFile(join(dockerDir, 'configs/prometheus/prometheus.yml'), 'utf8'));
    const targets = prometheus.scrape_configs.flatMap((job: { static_configs: Array<{ targets: string[] }> }) => job.static_configs.flatMap((config) => config.targets));
    expect(targets).toEqual(expect.arrayContaining(['node-exporter:9100', 'cadvisor:8080']));
    expect(prometheus.rule_files).toEqual(['/etc/prometheus/alert-rules.yml']);
    const rules = parse(await readFile(join(dockerDir, 'configs/prometheus/alert-rules.yml'), 'utf8'));
    for (const rule of rules.groups.flatMap((group: { rules: unknown[] }) => group.rules)) expect(rule).toEqual(expect.objectContaining({ alert: expect.any(String), expr: expect.any(String) }));
    const alertmanager = parse(await readFile(join(dockerDir, 'configs/alertmanager/alertmanager.yml'), 'utf8'));
    expect(alertmanager.receivers.map((receiver: { name: string }) => receiver.name)).toContain(alertmanager.route.receiver);
  });

  it('grafana provisions the prometheus data source its dashboards use', async () => {
    const datasources = parse(await readFile(join(dockerDir, 'configs/grafana/provisioning/datasources/prometheus.yml'), 'utf8'));
    const dashboard = JSON.parse(await readFile(join(dockerDir, 'configs/grafana/dashboards/overview.json'), 'utf8'));
    const uids = new Set(dashboard.panels.map((panel: { datasource: { uid: string } }) => panel.datasource.uid));
    expect([...uids]).toEqual([datasources.datasources[0].uid]);
  });

  it('mkdocs lists only pages that exist', async () => {
    const mkdocs = parse(await readFile(join(dockerDir, 'mkdocs/mkdocs.yml'), 'utf8'));
    const pages = mkdocs.nav.map((item: Record<string, string>) => Object.values(item)[0]);
    const docs = (await filesUnder('mkdocs/docs')).map((path) => relative('mkdocs/docs', path));
    expect(pages.sort()).toEqual(docs.sort());
  });
});

describe('systemd units', () => {
  const units = async () => (await filesUnder('scripts/systemd')).filter((path) => /\.(service|timer)$/.test(path));

  it('have the sections systemd needs and run from the install directory', async () => {
    for (const unit of await units()) {
      const text = await readFile(join(dockerDir, unit), 'utf8');
      expect(text).toMatch(/^\[Unit\]$/m);
      expect(text).toMatch(unit.endsWith('.timer') ? /^\[Timer\]$/m : /^\[Service\]\n(.*\n)*WorkingDirectory=\/opt\/changemaker-lite$/m);
    }
  });

  // systemd's own reading (quoting, keys, commands that exist), of the units as an operator installs
  // them: copied beside each other, pointing at an installation that has their scripts.
  (existsSync('/usr/bin/systemd-analyze') ? it : it.skip)('are read by systemd-analyze verify without a complaint', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'cm-units-'));
    try {
      const install = join(scratch, 'changemaker-lite');
      await mkdir(join(install, 'scripts'), { recursive: true });
      await copyFile(join(dockerDir, 'scripts/backup.sh'), join(install, 'scripts/backup.sh'));
      await chmod(join(install, 'scripts/backup.sh'), 0o755);
      const copies: string[] = [];
      for (const unit of await units()) {
        const copy = join(scratch, basename(unit));
        await writeFile(copy, (await readFile(join(dockerDir, unit), 'utf8')).replaceAll('/opt/changemaker-lite', install));
        copies.push(copy);
      }
      const verified = await execa('systemd-analyze', ['verify', ...copies], { reject: false, all: true });
      expect({ exitCode: verified.exitCode, said: verified.all }).toEqual({ exitCode: 0, said: '' });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
