// Keeps the servers of a Node process on 127.0.0.1 (the MCP conformance suite's mock
// servers, the PDS and PLC directory of tests/peers/atproto). They call `server.listen(0)` (every
// interface) and read `server.address()` at once, so the host cannot be passed to `listen`
// (which would resolve it asynchronously): the socket is bound to 127.0.0.1 here,
// synchronously, and handed to `listen` as a handle.
const net = require('node:net');
const { TCP, constants } = process.binding('tcp_wrap');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const onlyPort = typeof args[0] === 'number' && (args.length === 1 || typeof args[1] === 'function');
  if (!onlyPort) {
    return listen.apply(this, args);
  }
  const handle = new TCP(constants.SERVER);
  const error = handle.bind('127.0.0.1', args[0]);
  if (error) {
    throw new Error(`could not bind 127.0.0.1:${args[0]} (${error})`);
  }
  return listen.call(this, { handle }, ...args.slice(1));
};
