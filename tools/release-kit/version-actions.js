'use strict';
// nx.json's release.version.versionActions (src/release/version-file-actions.ts), loaded as plain JavaScript (see load-compiled.js).
module.exports = require('./load-compiled').compiledEntry('version-actions');
