import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { workspaceRoot } from './fixtures/releases';

/**
 * bash 5.2 may run a script's EXIT trap in a subshell that a signal reaches while it is being
 * forked (seen: a `$(…)` child printing its parent's closing line with the parent's command). The
 * trap removes the work directory and says how the script ended: only the script's own process may.
 */
describe("install.sh's EXIT trap (upgrade.sh's too, which sources it)", () => {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'cm-exit-trap-'));
  });
  afterEach(() => rm(work, { recursive: true, force: true }));

  /** install.sh sourced, its work directory `work`, then `script`. */
  const sourced = (script: string) =>
    execa('bash', ['-c', `source "$0" && cleanup_paths=("$1") && ${script}`, join(workspaceRoot, 'docker/scripts/install.sh'), work], { reject: false });

  it('run in a subshell, removes nothing and says nothing', async () => {
    const result = await sourced('(set +e; false; on_exit); echo "subshell ended: $?"; [ -d "$1" ] && echo "work directory kept"; cleanup_paths=()');
    expect({ stdout: result.stdout, stderr: result.stderr }).toEqual({ stdout: 'subshell ended: 0\nwork directory kept', stderr: '' });
  });

  it("run in the script's own process, removes the work directory and names the failure", async () => {
    const result = await sourced('set +e; false; on_exit; [ -d "$1" ] || echo "work directory removed"; cleanup_paths=()');
    expect(result.stdout).toBe('work directory removed');
    expect(result.stderr).toMatch(/^install\.sh: stopped unexpectedly \(exit 1\) at: .*; nothing was installed; run it again, and report the line above if it repeats$/);
  });
});
