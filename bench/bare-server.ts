/** Baseline for the listing benchmark: a bare express server answering a pre-built JSON page. */
import { readFileSync } from 'node:fs';
import express from 'express';

const [file, port] = process.argv.slice(2);
const page = readFileSync(String(file));
const app = express();
app.get('/v1/instances', (_req, res) => {
  res.type('application/json').send(page);
});
app.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
