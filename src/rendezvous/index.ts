/** The rendezvous service: public surface for the CLI (`mazemaker rendezvous`) and tests. */
export { createRendezvousApp, defaultGetIp, type RendezvousAppDeps } from './app'
export { openRendezvousStore, sha256Hex, type RendezvousStore, type RendezvousStoreOptions, type Registration, type TokenInfo } from './store'
export { startRendezvous, resolveRendezvousHome, RENDEZVOUS_DB_FILE, type StartRendezvousOptions, type RendezvousService } from './server'
export { createRateLimiter, sourceKey, type RateLimiter } from './rate-limiter'
export * from './constants'
