/** The README's runnable blocks (between `<!-- NAME:start -->` and `<!-- NAME:end -->`), run with bash as a reader would. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO } from './gateway-process.js';

/** The code of the README block marked `name`, exactly as written. */
export async function readmeBlock(name: string): Promise<string> {
  const readme = await readFile(path.join(REPO, 'README.md'), 'utf8');
  const marker = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const block = new RegExp(`<!-- ${marker}:start -->\\s*\`\`\`(?:bash|sh)\\n([\\s\\S]*?)\`\`\`\\s*<!-- ${marker}:end -->`).exec(
    readme,
  )?.[1];
  assert.ok(block, `README.md has a block marked ${name}`);
  return block;
}

export interface BashRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `script` with `bash -euo pipefail` (a step that fails stops the run, as it should stop a reader) and
 * answers its exit code and output; killed after `timeoutMs`, so a tour that hangs fails instead of stalling.
 * Its stdin is /dev/null: on a socket (Node's default pipes) bash takes itself for an ssh session and runs bashrc.
 */
export function runBash(script: string, opts: { env: NodeJS.ProcessEnv; cwd: string; timeoutMs: number }): Promise<BashRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      env: opts.env,
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${opts.timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** The lines of a run's stdout, each parsed as JSON (the tours print one compact JSON value per line). */
export function jsonLines(stdout: string): unknown[] {
  return stdout
    .trim()
    .split('\n')
    .map((line, i) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        throw new assert.AssertionError({ message: `line ${i + 1} of the output is not JSON: ${line}\n${stdout}` });
      }
    });
}
