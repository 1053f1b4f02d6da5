#!/usr/bin/env node
// Committed (not built) so that npm links the bin at install time, before the first build.
import { main } from '../dist/main.js';

process.exitCode = await main(process.argv.slice(2));
