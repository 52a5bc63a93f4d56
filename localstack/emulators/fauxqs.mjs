// Starts the fauxqs SQS emulator bound to a loopback address.
//
// fauxqs's own CLI always listens on 0.0.0.0; this entry point builds the same
// Fastify app and listens only where asked (127.0.0.1 by default).
//
// Usage: node fauxqs.mjs [--host 127.0.0.1] [--port 4566] [--region us-east-1] [--log]
//
// Queue URLs: by default fauxqs names queues http://sqs.REGION.localhost:PORT/
// ACCOUNT/NAME. This entry point clears that host so URLs are built from the
// Host header of the CreateQueue request instead: a client configured with
// http://127.0.0.1:PORT gets http://127.0.0.1:PORT/000000000000/NAME, an
// address it can reach. fauxqs finds queues by their exact URL, so clients
// should use the URLs it returns (or GetQueueUrl), not rebuild them.
// --log writes one JSON line per request to stdout.
import { parseArgs } from "node:util";
import { buildApp } from "fauxqs";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "4566" },
    region: { type: "string", default: "us-east-1" },
    log: { type: "boolean", default: false },
  },
});

const port = Number.parseInt(values.port, 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`fauxqs: invalid --port ${values.port}`);
  process.exit(2);
}

// SqsStore is not exported by the package entry point; load it from the
// file next to it (the version is pinned in package-lock.json).
const { SqsStore } = await import(new URL("./sqs/sqsStore.js", import.meta.resolve("fauxqs")).href);
const sqsStore = new SqsStore();
sqsStore.host = ""; // build queue URLs from the request's Host header
sqsStore.region = values.region;

const app = buildApp({ logger: values.log, defaultRegion: values.region, stores: { sqsStore } });

let closing = false;
async function shutdown(signal) {
  if (closing) return;
  closing = true;
  try {
    await app.close();
  } catch (err) {
    console.error(`fauxqs: error while closing on ${signal}:`, err);
  }
  process.exit(0);
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));

try {
  await app.listen({ host: values.host, port });
} catch (err) {
  console.error(`fauxqs: cannot listen on ${values.host}:${port}: ${err.message}`);
  process.exit(1);
}
const address = app.server.address();
console.log(`fauxqs listening at http://${values.host}:${address.port} (region ${values.region})`);
