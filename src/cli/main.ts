/** The `skygate` command line: `serve` runs the gateway; later issues add more commands here. */
import { Command } from 'commander';
import { registerOvaCommands } from './ova-commands.js';

const program = new Command()
  .name('skygate')
  .description('Multi-cloud interoperability gateway: one operations API over many clouds.')
  .version('0.1.0');

program
  .command('serve')
  .description('run the gateway (settings from SKYGATE_* environment variables; see the README)')
  .option('-p, --port <port>', 'port to listen on (SKYGATE_PORT, default 8080)')
  .option('-H, --host <host>', 'address to bind (SKYGATE_HOST, default 127.0.0.1)')
  .option('-d, --data-dir <dir>', 'data directory (SKYGATE_DATA_DIR, default ./data)')
  .option('-c, --config <file>', 'provider config file (SKYGATE_CONFIG)')
  .action(async (opts: { port?: string; host?: string; dataDir?: string; config?: string }) => {
    if (opts.port) process.env.SKYGATE_PORT = opts.port;
    if (opts.host) process.env.SKYGATE_HOST = opts.host;
    if (opts.dataDir) process.env.SKYGATE_DATA_DIR = opts.dataDir;
    if (opts.config) process.env.SKYGATE_CONFIG = opts.config;
    await import('../server/main.js');
  });

registerOvaCommands(program);

await program.parseAsync(process.argv);
