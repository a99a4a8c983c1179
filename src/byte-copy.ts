// Copies a byte range between Uint8Arrays without creating a view object: Buffer.prototype.copy
// takes offsets, where `dst.set(src.subarray(a, b), at)` allocates a subarray per call. Bun accepts
// any Uint8Array as `this`. Worth it for runs of a few dozen bytes and more; shorter ones copy faster
// in a plain loop.
const bufferCopy = Buffer.prototype.copy;

export const NATIVE_COPY_MIN_BYTES = 64;

export function copyBytes(src: Uint8Array, srcStart: number, srcEnd: number, dst: Uint8Array, dstStart: number): void {
  bufferCopy.call(src, dst, dstStart, srcStart, srcEnd);
}
