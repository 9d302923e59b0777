// Runs s3rver in its own Node process, started with --openssl-legacy-provider
// (without it, s3rver's ListObjectsV2 continuation tokens fail under OpenSSL 3).
// argv: <data directory> <bucket>[,<bucket>…]. Prints one JSON line {"port":N}
// on stdout once listening; closes on SIGTERM/SIGINT or when stdin ends.
import S3rver from 's3rver';

const [directory, buckets = 'test-bucket'] = process.argv.slice(2);
if (!directory) {
  process.stderr.write('usage: s3rver-process.mjs <directory> [bucket,…]\n');
  process.exit(2);
}

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: buckets.split(',').map((name) => ({ name })),
});
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  await server.close().catch(() => undefined);
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// The parent holds our stdin: if it dies without killing us, we still go.
process.stdin.on('end', shutdown);
process.stdin.resume();
