/**
 * What makes the pod live, below HTTP: the event bus its live views subscribe to and the
 * registry of held long-polls that commits wake. src/pod creates both; routes only use them.
 */
export { createPodEvents, type PodEvent, type PodEvents } from './events'
export { createWaiterRegistry, type WaitOutcome, type WaiterRegistry } from './waiters'
export { createPeersFeed, PEERS_RECONCILE_MS, PEERS_WINDOW_MS, type PeersFeed, type PeersFeedSource } from './peers-feed'
