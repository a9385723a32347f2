'use strict';
module.exports = require('../load-compiled').compiledEntry('publish-release');
