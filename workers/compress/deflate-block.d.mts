// Types for deflate-block.mjs (plain JavaScript so that worker threads can load it without tsx).

/** Size of the pieces a block is fed to fflate's streaming Deflate in. */
export declare const PIECE: number;
/** Deflate's window: the dictionary is the last WINDOW bytes before the block. */
export declare const WINDOW: number;
/** fflate memory level used for every block. */
export declare const MEM: number;

/** Raw deflate data for one block of a block-parallel stream: not final, it ends byte-aligned with
 *  an empty stored block (a sync flush); final, it ends the stream. A pure function of its
 *  arguments. The result owns its whole buffer (it can be transferred). */
export declare function deflateBlock(block: Uint8Array, dictionary: Uint8Array | undefined, final: boolean, level: number): Uint8Array;

/** A compression request, as posted to a deflate thread; or, with `warm`, a request to warm up. */
export type DeflateTask =
  | { id: number; block: Uint8Array; dictionary: Uint8Array | undefined; final: boolean; level: number; warm?: undefined }
  | { id: number; warm: true };

/** A deflate thread's answer: the data, or the error's message. */
export type DeflateReply = { id: number; data: Uint8Array } | { id: number; error: string };

/** Compresses a little made-up data so that the JIT compiles deflate's hot loops. */
export declare function warmUp(): void;

/** Runs one task in a deflate thread: the reply, and the buffers to transfer with it. */
export declare function runDeflateTask(task: DeflateTask): [DeflateReply, ArrayBuffer[]];
