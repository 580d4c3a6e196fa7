/** The rendezvous service: public surface for the CLI (`mazemaker rendezvous`) and tests. */
export { createRendezvousApp, defaultGetIp, type RendezvousAppDeps } from './app'
export { openRendezvousStore, sha256Hex, type RendezvousStore, type RendezvousStoreOptions, type Registration, type TokenInfo } from './store'
export { startRendezvous, resolveRendezvousHome, RENDEZVOUS_DB_FILE, type StartRendezvousOptions, type RendezvousService } from './server'
export { createFailureLimiter, sourceKey, type FailureLimiter } from './failure-limiter'
export * from './constants'
