// hearth-bench's CHT side-by-side figure (bench/src/cht.rs runs this).
//
// Two roles, each its own node process, as a CHT tablet and its server are:
//
//   node cht.js serve DIR
//     express-pouchdb 4 on 127.0.0.1 (a free port), plain HTTP, its
//     databases in DIR (PouchDB's default node adapter, leveldb). Prints
//     {"port": N} once listening; runs until killed.
//
//   node cht.js replicate DIR NDJSON TARGET_URL CHECK_URL
//     Loads every document of NDJSON into a local PouchDB in DIR (leveldb,
//     like the tablet's own storage), prints {"loaded": n}, then waits for
//     one line on stdin (the bench zeroes its byte counters then), and
//     replicates the local database to TARGET_URL with
//     PouchDB.replicate(local, remote) and default options (batch_size 100),
//     as CHT's webapp pushes its reports. Prints
//     {"docs": written, "ms": replication time, "server_docs": n,
//      "pouchdb": version}: server_docs is the server's doc_count read
//     after the timed part through CHECK_URL (the server directly, not the
//     counting proxy), so the check costs no counted bytes.
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');
const readline = require('readline');
const { performance } = require('perf_hooks');

const PouchDB = require('pouchdb');

function say(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

async function serve(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const Server = PouchDB.defaults({ prefix: dir + path.sep });
  const app = require('express-pouchdb')(Server, {
    mode: 'minimumForPouchDB',
    inMemoryConfig: true,
    logPath: path.join(dir, 'log.txt'),
  });
  const server = http.createServer(app);
  server.listen(0, '127.0.0.1', () => say({ port: server.address().port }));
}

async function load(db, ndjson) {
  const lines = fs.readFileSync(ndjson, 'utf8').split('\n').filter((l) => l.length > 0);
  const chunk = 500;
  for (let i = 0; i < lines.length; i += chunk) {
    const docs = lines.slice(i, i + chunk).map((l) => JSON.parse(l));
    const res = await db.bulkDocs(docs);
    const bad = res.find((r) => r.error);
    if (bad) {
      throw new Error('local load refused ' + JSON.stringify(bad));
    }
  }
  return lines.length;
}

function nextLine() {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin });
    rl.once('line', (line) => {
      rl.close();
      resolve(line);
    });
  });
}

async function replicate(dir, ndjson, target, check) {
  fs.mkdirSync(dir, { recursive: true });
  const local = new PouchDB(path.join(dir, 'local'));
  const loaded = await load(local, ndjson);
  say({ loaded });
  await nextLine();
  const remote = new PouchDB(target);
  const t0 = performance.now();
  const result = await PouchDB.replicate(local, remote);
  const ms = performance.now() - t0;
  if (!result.ok) {
    throw new Error('replication failed ' + JSON.stringify(result.errors));
  }
  const info = await new PouchDB(check).info();
  say({ docs: result.docs_written, ms, server_docs: info.doc_count, pouchdb: PouchDB.version });
}

async function main() {
  const [role, ...args] = process.argv.slice(2);
  if (role === 'serve' && args.length === 1) {
    await serve(args[0]);
  } else if (role === 'replicate' && args.length === 4) {
    await replicate(...args);
    process.exit(0);
  } else {
    throw new Error('usage: cht.js serve DIR | cht.js replicate DIR NDJSON TARGET_URL CHECK_URL');
  }
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
