// @ts-check
/**
 * The panel's few DOM helpers: find an element by id as the type the page gives it (checked at
 * run time, so a renamed element fails loudly at start rather than later), and make an element
 * with its text (always textContent, never HTML).
 */

/**
 * @template {typeof HTMLElement} [C=typeof HTMLElement]
 * @param {string} id
 * @param {C} [type] the element's class, e.g. HTMLInputElement (default HTMLElement)
 * @returns {InstanceType<C>}
 */
export function $(id, type) {
  const found = document.getElementById(id)
  const want = type ?? HTMLElement
  if (!(found instanceof want)) throw new Error(`panel: #${id} ${found ? `is not a ${want.name}` : 'is missing'}`)
  return /** @type {InstanceType<C>} */ (found)
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, className, text) {
  const node = document.createElement(tag)
  if (className) node.className = className
  if (text !== undefined) node.textContent = text
  return node
}

/**
 * The element under `root` that `selector` names, as `type`; throws when the template lacks it.
 * @template {typeof HTMLElement} [C=typeof HTMLElement]
 * @param {ParentNode} root
 * @param {string} selector
 * @param {C} [type]
 * @returns {InstanceType<C>}
 */
export function find(root, selector, type) {
  const found = root.querySelector(selector)
  const want = type ?? HTMLElement
  if (!(found instanceof want)) throw new Error(`panel: ${selector} missing in its template`)
  return /** @type {InstanceType<C>} */ (found)
}

/** @param {HTMLButtonElement} btn @param {boolean} busy */
export function setBusy(btn, busy) {
  btn.classList.toggle('busy', busy)
  btn.disabled = busy
  btn.setAttribute('aria-busy', busy ? 'true' : 'false')
}

/** A status line: its text, red when it reports a failure. @param {HTMLElement} line @param {string} text @param {boolean} [failed] */
export function say(line, text, failed = false) {
  line.textContent = text
  line.classList.toggle('error-text', failed)
}

/** @param {unknown} err @returns {string} what to show of an error */
export function messageOf(err) {
  return err instanceof Error ? err.message : String(err)
}
