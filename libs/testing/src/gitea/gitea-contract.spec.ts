import { GiteaContract, unknownTokenMessage } from './gitea-contract';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const web = 'http://127.0.0.1/admin/x';
const attachment = {
  id: 2,
  name: 'a.tar.gz',
  size: 3,
  download_count: 0,
  created_at: '2026-01-01T00:00:00.000Z',
  uuid: 'u',
  browser_download_url: `${web}/releases/download/v1.0.0/a.tar.gz`,
};
const release = {
  id: 1,
  tag_name: 'v1.0.0',
  target_commitish: 'main',
  name: 'v1.0.0',
  body: '',
  url: 'http://127.0.0.1/api/v1/repos/admin/x/releases/1',
  html_url: `${web}/releases/tag/v1.0.0`,
  tarball_url: `${web}/archive/v1.0.0.tar.gz`,
  zipball_url: `${web}/archive/v1.0.0.zip`,
  upload_url: 'http://127.0.0.1/api/v1/repos/admin/x/releases/1/assets',
  draft: false,
  prerelease: false,
  created_at: '2026-01-01T00:00:00.000Z',
  published_at: '2026-01-01T00:00:00.000Z',
  author: { id: 1, login: 'ci' },
  assets: [attachment],
};

describe('GiteaContract', () => {
  const contract = new GiteaContract();

  it('accepts a release shaped as the swagger definitions say', () => {
    expect(contract.check('GET', '/repos/admin/x/releases/tags/v1.0.0', 200, json(release))).toEqual([]);
    expect(contract.check('GET', '/repos/admin/x/releases', 200, json([release]))).toEqual([]);
  });

  it('rejects an answer lacking a field Gitea always sends', () => {
    const { tag_name: _dropped, ...withoutTag } = release;
    expect(contract.check('GET', '/repos/admin/x/releases/1', 200, json(withoutTag))[0]?.problem).toMatch(/must have required property 'tag_name'/);
    const { browser_download_url: _url, ...withoutUrl } = attachment;
    expect(contract.check('GET', '/repos/admin/x/releases/1/assets', 200, json([withoutUrl]))[0]?.problem).toMatch(/browser_download_url/);
    expect(contract.check('GET', '/repos/admin/x/releases', 200, json([{}]))).not.toEqual([]);
  });

  it('rejects wrong field types, undeclared statuses and bodies on empty responses', () => {
    const wrongSize = { ...release, assets: [{ ...release.assets[0], size: 'three' }] };
    expect(contract.check('GET', '/repos/admin/x/releases/1', 200, json(wrongSize))[0]?.problem).toMatch(/size must be integer/);
    expect(contract.check('GET', '/repos/admin/x/releases/1', 202, json(release))[0]?.problem).toMatch(/does not answer 202/);
    expect(contract.check('DELETE', '/repos/admin/x/releases/1', 204, json({}))[0]?.problem).toMatch(/empty body/);
    expect(contract.check('PUT', '/repos/admin/x/releases/1', 200, json(release))[0]?.problem).toMatch(/no operation/);
  });

  it('knows editing an attachment answers 201 and an upload may answer 413', () => {
    expect(contract.check('PATCH', '/repos/admin/x/releases/1/assets/2', 201, json(attachment))).toEqual([]);
    expect(contract.check('PATCH', '/repos/admin/x/releases/1/assets/2', 200, json(attachment))).not.toEqual([]);
    expect(contract.check('POST', '/repos/admin/x/releases/1/assets', 413, json({ message: 'too big', url: 'u' }))).toEqual([]);
  });

  it('requires APIError bodies and Gitea\'s exact 401 text', () => {
    expect(contract.check('POST', '/repos/admin/x/releases', 409, json({ message: 'exists', url: 'u' }))).toEqual([]);
    expect(contract.check('POST', '/repos/admin/x/releases', 409, json({ message: 7 }))).not.toEqual([]);
    expect(contract.check('GET', '/repos/admin/x/releases', 401, json({ message: unknownTokenMessage, url: 'u' }))).toEqual([]);
    expect(contract.check('GET', '/repos/admin/x/releases', 401, json({ message: 'user does not exist', url: 'u' }))).not.toEqual([]);
    expect(contract.check('GET', '/repos/admin/x/releases/tags/v9', 404, Buffer.from('<html>Not Found</html>'))[0]?.problem).toMatch(/not JSON/);
    expect(contract.check('GET', '/repos/admin/x/releases/tags/v9', 404, json({ message: '', url: 'u' }))).not.toEqual([]);
  });

  it('accepts the empty message production Gitea gives a 500, and only there', () => {
    expect(contract.check('PATCH', '/repos/admin/x/releases/1', 500, json({ message: '', url: 'u' }))).toEqual([]);
    expect(contract.check('PATCH', '/repos/admin/x/releases/1', 403, json({ message: '', url: 'u' }))).not.toEqual([]);
  });
});
