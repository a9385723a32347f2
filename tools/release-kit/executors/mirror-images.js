'use strict';
module.exports = require('../load-compiled').compiledEntry('mirror-images');
