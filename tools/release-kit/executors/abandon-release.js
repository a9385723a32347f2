'use strict';
module.exports = require('../load-compiled').compiledEntry('abandon-release');
