#!/usr/bin/env node
// The protoc / buf plugin: the compiled generator (`pnpm build` writes dist/; the package's prepack runs it).
import '../dist/main.js';
