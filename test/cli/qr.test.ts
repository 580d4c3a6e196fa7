/** The terminal QR code decodes back to the handshake URL (drawn to pixels, read with jsQR). */
import { describe, expect, test } from 'bun:test'
import jsQR from 'jsqr'
import { renderQrTerminal } from '../../src/cli/qr'

const HANDSHAKE =
  'mzm-handshake://6356db37-0f1e-4c2a-9d7b-1a2b3c4d5e6f?key=mENKrJzyq3Jb0cYd1w2e3r4t5y6u7i8o9p0a1s2d3f4&name=alca-7G&url=https%3A%2F%2Fpeer.tail-foo.ts.net'

const PX_PER_MODULE = 4
const MARGIN_PX = 16

/**
 * Turns half-block text back into an RGBA image: each character is two modules stacked; a block
 * is drawn in the terminal's (light) foreground, a space shows the (dark) background.
 */
function toImage(qr: string, opts: { invert: boolean }) {
  const lines = qr.split('\n')
  const cols = Math.max(...lines.map((l) => [...l].length))
  const light = (ch: string, top: boolean) => (ch === '█' ? true : ch === '▀' ? top : ch === '▄' ? !top : false)
  const width = cols * PX_PER_MODULE + 2 * MARGIN_PX
  const height = lines.length * 2 * PX_PER_MODULE + 2 * MARGIN_PX
  const data = new Uint8ClampedArray(width * height * 4).fill(255) // light margin all round
  lines.forEach((line, row) => {
    ;[...line].forEach((ch, col) => {
      for (const top of [true, false]) {
        const isLight = light(ch, top) !== opts.invert
        const y0 = MARGIN_PX + (row * 2 + (top ? 0 : 1)) * PX_PER_MODULE
        const x0 = MARGIN_PX + col * PX_PER_MODULE
        for (let y = y0; y < y0 + PX_PER_MODULE; y++)
          for (let x = x0; x < x0 + PX_PER_MODULE; x++) {
            const i = (y * width + x) * 4
            const v = isLight ? 255 : 0
            data[i] = data[i + 1] = data[i + 2] = v
          }
      }
    })
  })
  return { data, width, height }
}

/** Dark modules must be dark: no retry with the image negated. */
const decode = (img: ReturnType<typeof toImage>) => jsQR(img.data, img.width, img.height, { inversionAttempts: 'dontInvert' })?.data ?? null

describe('renderQrTerminal', () => {
  test('uses only half blocks, spaces and newlines; no escape codes', () => {
    const qr = renderQrTerminal(HANDSHAKE)
    expect(qr).toMatch(/^[█▀▄ \n]+$/)
    const lines = qr.split('\n')
    expect(new Set(lines.map((l) => [...l].length)).size).toBe(1) // a square, line by line
    expect(lines.length).toBeLessThan(40) // fits a terminal
  })

  test('on a dark terminal (light foreground) it decodes to the handshake URL', () => {
    const img = toImage(renderQrTerminal(HANDSHAKE), { invert: false })
    expect(decode(img)).toBe(HANDSHAKE)
  })

  test('invert is for light terminals (dark foreground)', () => {
    const img = toImage(renderQrTerminal(HANDSHAKE, { invert: true }), { invert: true })
    expect(decode(img)).toBe(HANDSHAKE)
    // and the plain code on a light terminal would show up negated: not readable as is
    expect(decode(toImage(renderQrTerminal(HANDSHAKE), { invert: true }))).toBeNull()
  })
})
