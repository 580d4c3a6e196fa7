/**
 * Mach-O code signatures of the darwin builds. On Apple silicon the kernel kills an executable
 * whose signature does not match its pages (ad-hoc is enough), and Bun's darwin-x64 runtime
 * carries Bun's own Developer ID signature, which `bun build --compile` invalidates by appending
 * our code without re-signing (Bun 1.4; darwin-arm64 output is re-signed ad hoc). So a release
 * verifies each darwin binary page by page, as the kernel would, and re-signs ad hoc where the
 * signature no longer matches.
 */
import { createHash } from 'node:crypto'

const MH_MAGIC_64 = 0xfeedfacf
const LC_SEGMENT_64 = 0x19
const LC_CODE_SIGNATURE = 0x1d
const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0
const CSMAGIC_CODEDIRECTORY = 0xfade0c02
const CS_HASHTYPE_SHA256 = 2
const CS_ADHOC = 0x2
const CS_LINKER_SIGNED = 0x20000
/** CodeDirectory version with the exec-segment fields; what the linker writes. */
const CD_VERSION = 0x20400
const CD_HEADER_BYTES = 88
const CS_EXECSEG_MAIN_BINARY = 1
const PAGE_BITS = 12
const PAGE = 1 << PAGE_BITS
const HASH_BYTES = 32

export interface MachoSignature {
  /** Pages checked (each hash matched). */
  pages: number
  adhoc: boolean
  /** Where the signature starts; every byte before it is covered. */
  codeLimit: number
}

interface LoadCommands {
  /** Offset of the LC_CODE_SIGNATURE command, its dataoff and datasize. */
  sig: { at: number; dataoff: number; datasize: number } | null
  linkedit: { at: number; fileoff: number } | null
  textFilesize: number
}

function loadCommands(file: Uint8Array): LoadCommands {
  const le = new DataView(file.buffer, file.byteOffset, file.byteLength)
  if (le.getUint32(0, true) !== MH_MAGIC_64) throw new Error('not a 64-bit Mach-O file')
  const out: LoadCommands = { sig: null, linkedit: null, textFilesize: 0 }
  let at = 32
  for (let i = 0, n = le.getUint32(16, true); i < n; i++) {
    const cmd = le.getUint32(at, true)
    if (cmd === LC_CODE_SIGNATURE) out.sig = { at, dataoff: le.getUint32(at + 8, true), datasize: le.getUint32(at + 12, true) }
    if (cmd === LC_SEGMENT_64) {
      const name = new TextDecoder().decode(file.subarray(at + 8, at + 24)).replace(/\0+$/, '')
      if (name === '__LINKEDIT') out.linkedit = { at, fileoff: Number(le.getBigUint64(at + 40, true)) }
      if (name === '__TEXT') out.textFilesize = Number(le.getBigUint64(at + 48, true))
    }
    at += le.getUint32(at + 4, true)
  }
  return out
}

/** Verifies `file`'s embedded signature; throws naming the first thing that is wrong. */
export function verifyMachoSignature(file: Uint8Array): MachoSignature {
  const { sig } = loadCommands(file)
  if (!sig) throw new Error('no LC_CODE_SIGNATURE load command: the binary is unsigned')
  if (sig.dataoff + sig.datasize > file.byteLength) throw new Error('the signature runs past the end of the file')
  // Signature blobs are big-endian.
  const be = new DataView(file.buffer, file.byteOffset + sig.dataoff, sig.datasize)
  if (be.getUint32(0) !== CSMAGIC_EMBEDDED_SIGNATURE) throw new Error('the signature is not an embedded signature superblob')
  for (let i = 0, count = be.getUint32(8); i < count; i++) {
    const offset = be.getUint32(12 + i * 8 + 4)
    if (be.getUint32(offset) !== CSMAGIC_CODEDIRECTORY || be.getUint8(offset + 37) !== CS_HASHTYPE_SHA256) continue
    const flags = be.getUint32(offset + 12)
    const hashOffset = be.getUint32(offset + 16)
    const nCodeSlots = be.getUint32(offset + 28)
    const codeLimit = be.getUint32(offset + 32)
    const hashSize = be.getUint8(offset + 36)
    const pageSize = 2 ** be.getUint8(offset + 39)
    if (codeLimit !== sig.dataoff)
      throw new Error(`the signature covers ${codeLimit} bytes but the code runs to ${sig.dataoff}: the file changed after signing`)
    if (nCodeSlots !== Math.ceil(codeLimit / pageSize)) throw new Error(`${nCodeSlots} code slots for ${codeLimit} bytes of ${pageSize}-byte pages`)
    const slots = sig.dataoff + offset + hashOffset
    for (let page = 0; page < nCodeSlots; page++) {
      const got = createHash('sha256')
        .update(file.subarray(page * pageSize, Math.min((page + 1) * pageSize, codeLimit)))
        .digest()
      if (!got.equals(file.subarray(slots + page * hashSize, slots + (page + 1) * hashSize))) {
        throw new Error(`page ${page} (bytes ${page * pageSize}…) does not match its signed hash`)
      }
    }
    return { pages: nCodeSlots, adhoc: (flags & CS_ADHOC) !== 0, codeLimit }
  }
  throw new Error('no SHA-256 CodeDirectory in the signature')
}

/**
 * Replaces the signature of `file` with a fresh ad-hoc one over its current bytes (what
 * `codesign --force --sign -` would write, linker-style: one SHA-256 CodeDirectory, no
 * requirements). The signature stays at the end of __LINKEDIT; the load commands are updated
 * to its new size before the pages are hashed. Returns the new file.
 */
export function adhocSign(file: Uint8Array, identifier: string): Uint8Array {
  const lc = loadCommands(file)
  if (!lc.sig || !lc.linkedit) throw new Error('no LC_CODE_SIGNATURE or __LINKEDIT to re-sign in place')
  const codeLimit = lc.sig.dataoff
  const nCodeSlots = Math.ceil(codeLimit / PAGE)
  const ident = new TextEncoder().encode(`${identifier}\0`)
  const cdLength = CD_HEADER_BYTES + ident.length + nCodeSlots * HASH_BYTES
  const superLength = 20 + cdLength
  const out = new Uint8Array(codeLimit + superLength)
  out.set(file.subarray(0, codeLimit))

  const le = new DataView(out.buffer)
  le.setUint32(lc.sig.at + 12, superLength, true)
  const linkeditSize = codeLimit + superLength - lc.linkedit.fileoff
  // vmsize in 4 KiB pages on both CPUs, as Bun's own arm64 re-signing writes it.
  le.setBigUint64(lc.linkedit.at + 32, BigInt(Math.ceil(linkeditSize / PAGE) * PAGE), true)
  le.setBigUint64(lc.linkedit.at + 48, BigInt(linkeditSize), true)

  const be = new DataView(out.buffer, codeLimit)
  be.setUint32(0, CSMAGIC_EMBEDDED_SIGNATURE)
  be.setUint32(4, superLength)
  be.setUint32(8, 1)
  be.setUint32(12, 0) // slot type: CodeDirectory
  be.setUint32(16, 20)
  const cd = 20
  be.setUint32(cd, CSMAGIC_CODEDIRECTORY)
  be.setUint32(cd + 4, cdLength)
  be.setUint32(cd + 8, CD_VERSION)
  be.setUint32(cd + 12, CS_ADHOC | CS_LINKER_SIGNED)
  be.setUint32(cd + 16, CD_HEADER_BYTES + ident.length)
  be.setUint32(cd + 20, CD_HEADER_BYTES)
  be.setUint32(cd + 24, 0)
  be.setUint32(cd + 28, nCodeSlots)
  be.setUint32(cd + 32, codeLimit)
  be.setUint8(cd + 36, HASH_BYTES)
  be.setUint8(cd + 37, CS_HASHTYPE_SHA256)
  be.setUint8(cd + 38, 0)
  be.setUint8(cd + 39, PAGE_BITS)
  // spare2, scatterOffset, teamOffset, spare3, codeLimit64 stay 0.
  be.setBigUint64(cd + 64, 0n)
  be.setBigUint64(cd + 72, BigInt(lc.textFilesize))
  be.setBigUint64(cd + 80, BigInt(CS_EXECSEG_MAIN_BINARY))
  out.set(ident, codeLimit + cd + CD_HEADER_BYTES)
  const slots = codeLimit + cd + CD_HEADER_BYTES + ident.length
  for (let page = 0; page < nCodeSlots; page++) {
    const hash = createHash('sha256')
      .update(out.subarray(page * PAGE, Math.min((page + 1) * PAGE, codeLimit)))
      .digest()
    out.set(hash, slots + page * HASH_BYTES)
  }
  return out
}
