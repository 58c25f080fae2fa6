#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

// Output piped into `head` and closed early is not an error.
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); else throw e; });
process.exitCode = await main(process.argv);
