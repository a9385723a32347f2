'use strict';
module.exports = require('../load-compiled').compiledEntry('docker-build-push');
