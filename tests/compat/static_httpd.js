// SPDX-License-Identifier: MIT
// A static file server on node's http module, for tests/compat/net.sh:
// node ROOT PORT serves ROOT's files ("/" is index.html), 404 otherwise,
// one process and no fork, so it runs unmodified in the VM.
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const [root, port] = [process.argv[2], Number(process.argv[3])];

http.createServer((req, res) => {
	const name = path.join(root, path.normalize(req.url === '/' ? '/index.html' : req.url));
	fs.readFile(name, (err, data) => {
		if (err) {
			res.writeHead(404);
			res.end();
			return;
		}
		res.writeHead(200, { 'Content-Length': data.length });
		res.end(data);
	});
}).listen(port);
