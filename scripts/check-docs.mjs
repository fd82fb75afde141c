#!/usr/bin/env node
// The API reference as `pnpm docs` builds it (typedoc.json), converted and validated but not
// written: exits 1 on any TypeDoc warning or error (typedoc.json has treatWarningsAsErrors),
// and prints the documented modules, one per line, for scripts/test/docs.test.ts to compare
// with the packages' exports.
import { Application } from 'typedoc';

const app = await Application.bootstrapWithPlugins();
const project = await app.convert();
if (project) app.validate(project);
if (!project || app.logger.hasErrors() || app.logger.hasWarnings()) process.exit(1);
for (const module of project.children ?? []) console.log(module.name);
