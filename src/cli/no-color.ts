/**
 * Colour only on a terminal and never with NO_COLOR (no-color.org: set and not empty). citty
 * decides when it loads and honours only NO_COLOR=1, so main.ts imports this first: when colour
 * is unwanted, NO_COLOR=1 is set for citty (and table.ts) to see.
 */
const wanted = process.stdout.isTTY === true && process.stderr.isTTY === true && (process.env.NO_COLOR ?? '') === '' && process.env.TERM !== 'dumb'
if (!wanted) process.env.NO_COLOR = '1'

export {}
