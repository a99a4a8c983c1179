#!/bin/sh
# Regenerate the reference Cap'n Proto frames in tests/fixtures/capnp/ with the Debian `capnp` tool
# (package capnproto), i.e. the C++ implementation. Each <name>.txt is a text-format message; <name>.bin
# is the frame payload a client would send: packed LoggerMsg, or an unpacked HelloMsg for hello.
# Deterministic: running it twice gives identical files.
set -eu
cd "$(dirname "$0")/.."
dir=tests/fixtures/capnp
logger=schema/logger.capnp

packed() { # <schema> <name> [extra capnp encode options]
  schema=$1 name=$2; shift 2
  capnp encode --packed "$@" "$schema" LoggerMsg < "$dir/$name.txt" > "$dir/$name.bin"
}

# long-64k.txt: a 65,536-byte message (1,024 copies of a 64-character line chunk).
chunk='The quick brown fox jumps over the lazy dog 0123456789 ABCDEFGH.'
{
  printf '( timestamp = "2026-05-18T10:00:00.000001Z", hostname = "bulk", level = info, message = "'
  i=0
  while [ $i -lt 1024 ]; do printf '%s' "$chunk"; i=$((i + 1)); done
  printf '" )\n'
} > "$dir/long-64k.txt"

for name in all-fields some-fields unicode empty-strings newline critical null-pointers long-64k; do
  packed $logger $name
done

# Multi-segment messages from the C++ builder: tiny segments force far and double-far pointers.
cp "$dir/all-fields.txt" "$dir/multi-segment.txt"
packed $logger multi-segment --segment-size=4
cp "$dir/long-64k.txt" "$dir/long-64k-multi-segment.txt"
packed $logger long-64k-multi-segment --segment-size=64

# Schema evolution: an older writer (fewer pointers, no data word) and a newer one (more of both).
packed $dir/logger-v0.capnp v0-old-schema
packed $dir/logger-v2.capnp v2-new-schema

# Handshake: unpacked, as newer clients send it.
capnp encode schema/hello.capnp HelloMsg < "$dir/hello.txt" > "$dir/hello.bin"
