import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commitUrl, compareUrl, giteaLocationFrom } from './gitea-location';
import { SettingError } from './environment-setting';
import { projectOfRepository, registryFrom, releaseTagOf, serviceImageName } from './image-naming';
import { versionFileContent, versionInFile } from './version-file';
import { allowedSignersFileName, signatureFileName, signatureNamespace, signerPrincipal } from './release-signing';
import { checksumFileName, defaultBundleRoot, imageDigestsFileName, latestTarballName, releaseAssetNames, versionedTarballName } from './release-files';
import { installScriptPath } from './allowed-signers';
import { bundleNameSetting, installScriptSetting } from './install-script';

describe('the release contract', () => {
  it('names a release\'s assets from the bundle root and the tag, SHA256SUMS last', () => {
    expect(versionedTarballName('changemaker-lite', 'v1.2.3')).toBe('changemaker-lite-v1.2.3.tar.gz');
    expect(latestTarballName('product')).toBe('product-latest.tar.gz');
    expect(releaseAssetNames('product', 'v2.0.0')).toEqual(['product-v2.0.0.tar.gz', 'product-latest.tar.gz', 'release-manifest.json', 'SHA256SUMS']);
  });

  it('reads and writes the VERSION file as the release tag, and refuses what is no version', () => {
    expect(versionFileContent('1.4.0')).toBe('v1.4.0\n');
    expect(versionInFile('v1.4.0\n')).toBe('1.4.0');
    expect(versionInFile('2.0.0-rc.1')).toBe('2.0.0-rc.1');
    expect(versionInFile('latest')).toBeUndefined();
    expect(versionInFile('v1.2\n')).toBeUndefined();
  });

  it('names service images changemaker-<project> and recognises only the workspace\'s own services', () => {
    expect(serviceImageName('api')).toBe('changemaker-api');
    expect(serviceImageName('api', 'team-{projectName}-img')).toBe('team-api-img');
    const images = [
      { project: 'api', repository: 'changemaker-api' },
      { project: 'media-api', repository: 'acme/media' },
    ];
    expect(projectOfRepository('changemaker-api', images)).toBe('api');
    expect(projectOfRepository('acme/media', images)).toBe('media-api');
    expect(projectOfRepository('changemaker-media-api', images)).toBeUndefined();
    expect(projectOfRepository('postgres', images)).toBeUndefined();
    expect(releaseTagOf('1.0.0')).toBe('v1.0.0');
  });

  it('takes the registry and the Gitea repository from the environment, else the product defaults', () => {
    expect(registryFrom({ GITEA_REGISTRY: '127.0.0.1:5000/admin' })).toBe('127.0.0.1:5000/admin');
    expect(registryFrom({})).toBe('gitea.bnkops.com/admin');
    const gitea = giteaLocationFrom({ GITEA_URL: 'http://127.0.0.1:3000/', GITEA_REPO: 'team/product' });
    expect(gitea).toEqual({ url: 'http://127.0.0.1:3000', repo: 'team/product' });
    expect(commitUrl(gitea, 'abc1234')).toBe('http://127.0.0.1:3000/team/product/commit/abc1234');
    expect(compareUrl(gitea, 'v1.0.0', 'v1.1.0')).toBe('http://127.0.0.1:3000/team/product/compare/v1.0.0...v1.1.0');
  });

  it('refuses a setting that is set but empty, instead of sending everything to the public default', () => {
    expect(() => registryFrom({ GITEA_REGISTRY: '' })).toThrow(new SettingError('GITEA_REGISTRY is set but empty: set it, or unset it to use the default gitea.bnkops.com/admin'));
    expect(() => registryFrom({ GITEA_REGISTRY: ' ' })).toThrow(SettingError);
    expect(() => giteaLocationFrom({ GITEA_URL: '' })).toThrow(/^GITEA_URL is set but empty: set it, or unset it to use the default https:\/\/gitea\.bnkops\.com$/);
    expect(() => giteaLocationFrom({ GITEA_URL: 'http://127.0.0.1:3000', GITEA_REPO: '' })).toThrow(/^GITEA_REPO is set but empty/);
  });

  it("is spelled the same in the product's install.sh (and so upgrade.sh), which bash cannot import it into", () => {
    const installScript = readFileSync(join(__dirname, '../../../docker', installScriptPath), 'utf8');
    const spelled = Object.fromEntries(
      [bundleNameSetting, 'checksum_file', 'signature_file', 'allowed_signers_file', 'signature_namespace', 'signer_principal', 'image_digests_file'].map((name) => [name, installScriptSetting(installScript, name)]),
    );
    expect(spelled).toEqual({
      [bundleNameSetting]: defaultBundleRoot,
      checksum_file: checksumFileName,
      signature_file: signatureFileName,
      allowed_signers_file: allowedSignersFileName,
      signature_namespace: signatureNamespace,
      signer_principal: signerPrincipal,
      image_digests_file: imageDigestsFileName,
    });
  });
});
