// Started by main.mjs under Node.js (or a page's dotnet.js in a browser).
return Backprop.Wasm.WasmCheck.Run(Console.Out);
