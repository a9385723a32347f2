import { GiteaContract, unknownTokenMessage } from './gitea-contract';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const release = {
  id: 1,
  tag_name: 'v1.0.0',
  name: 'v1.0.0',
  body: '',
  draft: false,
  prerelease: false,
  html_url: 'http://127.0.0.1/admin/x/releases/tag/v1.0.0',
  created_at: '2026-01-01T00:00:00.000Z',
  author: { id: 1, login: 'ci' },
  assets: [{ id: 2, name: 'a.tar.gz', size: 3, browser_download_url: 'http://127.0.0.1/attachments/u' }],
};

describe('GiteaContract', () => {
  const contract = new GiteaContract();

  it('accepts a release shaped as the swagger definitions say', () => {
    expect(contract.check('GET', '/repos/admin/x/releases/tags/v1.0.0', 200, json(release))).toEqual([]);
    expect(contract.check('GET', '/repos/admin/x/releases', 200, json([release]))).toEqual([]);
  });

  it('rejects wrong field types, undeclared statuses and bodies on empty responses', () => {
    const wrongSize = { ...release, assets: [{ ...release.assets[0], size: 'three' }] };
    expect(contract.check('GET', '/repos/admin/x/releases/1', 200, json(wrongSize))[0]?.problem).toMatch(/size must be integer/);
    expect(contract.check('GET', '/repos/admin/x/releases/1', 202, json(release))[0]?.problem).toMatch(/does not answer 202/);
    expect(contract.check('DELETE', '/repos/admin/x/releases/1', 204, json({}))[0]?.problem).toMatch(/empty body/);
    expect(contract.check('PUT', '/repos/admin/x/releases/1', 200, json(release))[0]?.problem).toMatch(/no operation/);
  });

  it('knows editing an attachment answers 201 and an upload may answer 413', () => {
    const attachment = release.assets[0];
    expect(contract.check('PATCH', '/repos/admin/x/releases/1/assets/2', 201, json(attachment))).toEqual([]);
    expect(contract.check('PATCH', '/repos/admin/x/releases/1/assets/2', 200, json(attachment))).not.toEqual([]);
    expect(contract.check('POST', '/repos/admin/x/releases/1/assets', 413, json({ message: 'too big' }))).toEqual([]);
  });

  it('requires APIError bodies and Gitea\'s exact 401 text', () => {
    expect(contract.check('POST', '/repos/admin/x/releases', 409, json({ message: 'exists', url: 'u' }))).toEqual([]);
    expect(contract.check('POST', '/repos/admin/x/releases', 409, json({ message: 7 }))).not.toEqual([]);
    expect(contract.check('GET', '/repos/admin/x/releases', 401, json({ message: unknownTokenMessage }))).toEqual([]);
    expect(contract.check('GET', '/repos/admin/x/releases', 401, json({ message: 'user does not exist' }))).not.toEqual([]);
  });
});
