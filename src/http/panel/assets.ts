/**
 * The panel's files, embedded as text with Bun text imports: the page, its style sheets and its
 * browser modules, by the name they are served under (/assets/<name>). Bun's bundler embeds a
 * file as text or as code, never both: the CLI runs the panel's shared modules (format.js,
 * sse.js) from this text too (src/cli/panel-modules.ts), so they have one source.
 */
import indexHtml from './index.html' with { type: 'text' }
// TypeScript cannot model import attributes: it types each import below from the file itself
// (no type for .css; a browser module has no default export), while Bun hands us its text.
// @ts-expect-error text import of a style sheet
import baseCss from './base.css' with { type: 'text' }
// @ts-expect-error text import of a style sheet
import controlsCss from './controls.css' with { type: 'text' }
// @ts-expect-error text import of a style sheet
import panelCss from './panel.css' with { type: 'text' }
// @ts-expect-error text import of a browser module
import apiJs from './api.js' with { type: 'text' }
// @ts-expect-error text import of a browser module
import domJs from './dom.js' with { type: 'text' }
// @ts-expect-error text import of a browser module
import formatJs from './format.js' with { type: 'text' }
// @ts-expect-error text import of a browser module
import identityJs from './identity.js' with { type: 'text' }
// @ts-expect-error text import of a browser module
import memoriesJs from './memories.js' with { type: 'text' }
// @ts-expect-error text import of a browser module
import panelJs from './panel.js' with { type: 'text' }
// @ts-expect-error text import of a browser module
import peerCardJs from './peer-card.js' with { type: 'text' }
// @ts-expect-error text import of a browser module
import peerDialogsJs from './peer-dialogs.js' with { type: 'text' }
// @ts-expect-error text import of a browser module
import peerListJs from './peer-list.js' with { type: 'text' }
// @ts-expect-error text import of a browser module
import peersJs from './peers.js' with { type: 'text' }
// @ts-expect-error text import of a browser module
import sharingJs from './sharing.js' with { type: 'text' }
// @ts-expect-error text import of a browser module
import shownJs from './shown.js' with { type: 'text' }
// @ts-expect-error text import of a browser module
import sseJs from './sse.js' with { type: 'text' }
// @ts-expect-error text import of a browser module
import streamJs from './stream.js' with { type: 'text' }
// @ts-expect-error text import of a vendored browser module (see its header)
import uqrJs from './uqr.mjs' with { type: 'text' }

export const INDEX_HTML: unknown = indexHtml

const CSS = 'text/css; charset=utf-8'
const JS = 'text/javascript; charset=utf-8'

/** Every file under /assets/, by name: the page's style sheets and the modules it imports. */
export const PANEL_ASSETS: Readonly<Record<string, readonly [unknown, string]>> = {
  'base.css': [baseCss, CSS],
  'controls.css': [controlsCss, CSS],
  'panel.css': [panelCss, CSS],
  'api.js': [apiJs, JS],
  'dom.js': [domJs, JS],
  'format.js': [formatJs, JS],
  'identity.js': [identityJs, JS],
  'memories.js': [memoriesJs, JS],
  'panel.js': [panelJs, JS],
  'peer-card.js': [peerCardJs, JS],
  'peer-dialogs.js': [peerDialogsJs, JS],
  'peer-list.js': [peerListJs, JS],
  'peers.js': [peersJs, JS],
  'sharing.js': [sharingJs, JS],
  'shown.js': [shownJs, JS],
  'sse.js': [sseJs, JS],
  'stream.js': [streamJs, JS],
  'uqr.mjs': [uqrJs, JS],
}
