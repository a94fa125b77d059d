#!/usr/bin/env node
// The bootsmith CLI. The engine is TypeScript; tsx compiles it on the fly.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../workers/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
