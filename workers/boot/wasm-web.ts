// v86's WebAssembly for the app: Vite copies the file from the v86 package into the build (a
// hashed asset, so the service worker precaches it with the rest) and gives us its URL. The web
// layer passes webV86Wasm as BootOptions.wasm; Node uses node.ts instead.
import v86WasmUrl from 'v86/build/v86.wasm?url';
import type { V86Wasm } from './v86.ts';

export { v86WasmUrl };

export const webV86Wasm: V86Wasm = async () => {
  const response = await fetch(v86WasmUrl);
  if (!response.ok) throw new Error(`Cannot load the emulator (${v86WasmUrl}: HTTP ${response.status}).`);
  // compileStreaming wants application/wasm; a server or cache that says otherwise still works.
  if (response.headers.get('content-type')?.startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
};
