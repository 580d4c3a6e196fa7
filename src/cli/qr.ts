/**
 * `mazemaker identity --qr`: the handshake URL as a QR code drawn with Unicode half blocks, two
 * module rows per text line, so it fits an 80x24 terminal and a phone camera can read it.
 */
import { renderUnicodeCompact } from 'uqr'

/** Quiet zone in modules; scanners want light space around the code (the spec asks for 4). */
const QR_BORDER_MODULES = 2

/**
 * Draws `text` as a QR code for a terminal. Light modules are printed as full blocks in the
 * terminal's foreground colour, so on the usual dark terminal the code reads dark-on-light;
 * pass `invert` for a light terminal.
 * @example console.log(renderQrTerminal(identity.handshake_url))
 */
export function renderQrTerminal(text: string, opts: { invert?: boolean } = {}): string {
  // ECC M: survives a little glare or a moiré from photographing a screen, still compact.
  return renderUnicodeCompact(text, { ecc: 'M', border: QR_BORDER_MODULES, invert: opts.invert ?? false })
}
