'use strict';
// nx.json's plugin: the inferred targets and the graph's edges (src/index.ts), loaded as plain JavaScript (see load-compiled.js).
module.exports = require('./load-compiled').compiledEntry('plugin');
