'use strict';
// nx.json's changelog renderer (src/release/gitea-changelog-renderer.ts), loaded as plain JavaScript (see load-compiled.js).
module.exports = require('./load-compiled').compiledEntry('changelog-renderer');
