// Runs the app's Main under Node.js (tried with 20):
//   node examples/wasm/Browser/main.mjs examples/wasm/Browser/bin/Release/net10.0/wwwroot/_framework [app arguments...]
// The folder is the build's _framework (dotnet.js finds the runtime and assemblies beside itself).
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [framework, ...args] = process.argv.slice(2);
if (!framework) {
    console.error('usage: node main.mjs <wwwroot/_framework folder> [arguments]');
    process.exit(2);
}
const { dotnet } = await import(pathToFileURL(resolve(framework, 'dotnet.js')).href);
const exitCode = await dotnet.withApplicationArguments(...args).run();
process.exit(exitCode);
