import { join } from 'node:path';
import { createThrowawayWorkspace } from './throwaway-workspace';

describe('createThrowawayWorkspace', () => {
  it('commits the workspace but not its node_modules link, which a checkout in the clone would otherwise put back over the real one', async () => {
    const workspace = await createThrowawayWorkspace(join(__dirname, '../../..'));
    try {
      expect(await workspace.git('ls-files', '--', 'node_modules')).toBe('');
      expect(await workspace.git('ls-files', '--', 'nx.json')).toBe('nx.json');
      expect(await workspace.git('status', '--porcelain')).toBe('');
    } finally {
      await workspace.remove();
    }
  }, 60_000);
});
