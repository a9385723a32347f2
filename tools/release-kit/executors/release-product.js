'use strict';
module.exports = require('../load-compiled').compiledEntry('release-product');
