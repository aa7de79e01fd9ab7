#!/usr/bin/env node
// The CLI entry: everything lives in the compiled library (npm run build → dist/).
import { main } from '../dist/cli/index.js';

process.exitCode = await main(process.argv.slice(2));
