/**
 * How a release is signed, for packaging (libs/bundle), publishing (libs/gitea) and the server
 * scripts (docker/scripts/install.sh spells the same values: bash cannot import them; change them
 * there too). SHA256SUMS is signed with `ssh-keygen -Y sign`: every server has ssh-keygen to verify,
 * so no new tool is needed, and SHA256SUMS lists the tarballs and release-manifest.json.
 */

/** The detached signature of SHA256SUMS, a release asset beside it. */
export const signatureFileName = 'SHA256SUMS.sig';

/**
 * The keys whose signature the next release must carry, in ssh-keygen's allowed_signers format: at
 * the top of the tarball and so of every installation, whose upgrade.sh trusts only these.
 */
export const allowedSignersFileName = 'allowed_signers';

/** ssh-keygen's -n: a signature made for this purpose is valid for no other. */
export const signatureNamespace = 'changemaker-lite-release';

/** The principal of every allowed_signers line (ssh-keygen -Y verify -I). */
export const signerPrincipal = 'release@changemaker-lite';

/** Environment variables packaging reads the signing key from: a path, or the key itself. */
export const signingKeyFileVariable = 'RELEASE_SIGNING_KEY_FILE';
export const signingKeyVariable = 'RELEASE_SIGNING_KEY';
