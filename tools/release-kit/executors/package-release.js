'use strict';
module.exports = require('../load-compiled').compiledEntry('package-release');
