import module from 'node:module';
module.enableCompileCache();
const m = process.argv[2];
const s = performance.now(); await import(m); console.log(m, (performance.now()-s).toFixed(1));
