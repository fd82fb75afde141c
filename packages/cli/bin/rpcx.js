#!/usr/bin/env node
// The `rpcx` command: the compiled CLI (`pnpm build` writes dist/; the package's prepack runs it).
import '../dist/main.js';
