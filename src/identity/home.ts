/**
 * The home directory (contract "Home directory"): where it is, what is in it, and first boot.
 * First boot creates the directory 0700 and every missing file 0600; later boots only read.
 * Keys are never regenerated or overwritten: a damaged file stops the pod with a message
 * naming the file and the fix.
 */
import { homedir, hostname as osHostname } from 'node:os'
import { join, resolve } from 'node:path'
import { HomeError } from '../lib/errors'
import type { Logger } from '../lib/log'
import { createFileOnce, ensurePrivateDir, statOrNull } from '../lib/private-files'
import { loadOrCreateKeyFile } from './key-file'
import { createIdentity, type Identity } from './identity'
import {
  defaultPodName,
  DEFAULT_LISTEN,
  DEFAULT_MAX_CONTENT_BYTES,
  DEFAULT_MAX_PEER_BYTES,
  DEFAULT_PUBLIC_PREFIXES,
  DEFAULT_SYNC_INTERVAL_S,
  formatPodConfig,
  loadPodConfig,
  PeerHeaders,
  updatePodConfig,
  type PodConfig,
} from '../config'
import { newPodId } from './pod-id'
import { PeerRegistry } from './peer-registry'
import { formatPeersToml } from './peers-toml'
import type { HomePaths } from './types'

export const HOME_ENV = 'MAZEMAKER_HOME'
export const DEFAULT_HOME_DIR = '.mazemaker'

export interface PodHome {
  paths: HomePaths
  config: PodConfig
  identity: Identity
  peers: PeerRegistry
  /** Per-peer secret request headers (peer-keys/headers/<id>.toml). */
  headers: PeerHeaders
  /**
   * Replaces `advertise` in pod.toml (re-read first, written atomically 0600) and in this
   * running pod: the next handshake URL and rendezvous heartbeat use the new list.
   */
  setAdvertise(urls: string[]): string[]
}

/** `$MAZEMAKER_HOME`, else `--home`, else `~/.mazemaker`; `~` is expanded and the result absolute. */
export function resolveHome(opts: { flag?: string; env?: Record<string, string | undefined> } = {}): string {
  const env = opts.env ?? process.env
  const fromEnv = env[HOME_ENV]?.trim()
  const chosen = fromEnv || opts.flag?.trim() || join(homedir(), DEFAULT_HOME_DIR)
  const expanded = chosen === '~' ? homedir() : chosen.startsWith('~/') ? join(homedir(), chosen.slice(2)) : chosen
  return resolve(expanded)
}

export function homePaths(root: string): HomePaths {
  const peerKeysDir = join(root, 'peer-keys')
  return {
    root,
    podToml: join(root, 'pod.toml'),
    peersToml: join(root, 'peers.toml'),
    peerKeysDir,
    selfKey: join(peerKeysDir, 'self.key'),
    peerKeyDir: join(peerKeysDir, 'peers'),
    peerHeadersDir: join(peerKeysDir, 'headers'),
    vaultKey: join(root, 'vault.key'),
    adminToken: join(root, 'admin.token'),
    db: join(root, 'pod.db'),
    lock: join(root, 'pod.lock'),
    socket: join(root, 'pod.sock'),
    nonces: join(root, 'nonces.journal'),
  }
}

/** Opens (on first boot: creates) a home and returns its config, identity and peer registry. */
export async function openHome(root: string, opts: { log: Logger; hostname?: string }): Promise<PodHome> {
  const paths = homePaths(resolve(root))
  const { log } = opts
  const firstBoot = statOrNull(paths.podToml) === null
  // A file created on a later boot replaces a lost one: say so louder than on first boot.
  const logCreated = (path: string, msg?: string) => (firstBoot ? log.info({ op: 'init', path }) : log.warn({ op: 'init', path, msg }))

  if (ensurePrivateDir(paths.root, 'home')) logCreated(paths.root)
  if (ensurePrivateDir(paths.peerKeysDir, 'peer-keys directory')) logCreated(paths.peerKeysDir)
  if (ensurePrivateDir(paths.peerKeyDir, 'peer-keys directory')) logCreated(paths.peerKeyDir)

  const secret = (path: string, label: string, fix: string, lostMsg: string) => {
    const file = loadOrCreateKeyFile(path, label, fix)
    if (file.created) logCreated(path, lostMsg)
    return file
  }

  const KEY_FIX = 'restore it from backup (the pod never regenerates keys)'
  const privateKey = secret(paths.selfKey, 'self.key', KEY_FIX, 'new key pair: every peer must pair again')
  const dbSize = statOrNull(paths.db)?.size ?? 0
  if (statOrNull(paths.vaultKey) === null && dbSize > 0) {
    throw new HomeError(
      `vault.key at ${paths.vaultKey} is missing but ${paths.db} exists and its private memories are encrypted with it; ` +
        'restore vault.key from backup, or move pod.db away to start with an empty store',
    )
  }
  const vaultKey = secret(paths.vaultKey, 'vault.key', KEY_FIX, 'new vault key')
  const adminToken = secret(paths.adminToken, 'admin.token', 'delete it and restart the pod to get a new token', 'new admin token')

  if (statOrNull(paths.podToml) === null) {
    const config: PodConfig = {
      pod_id: newPodId(),
      name: defaultPodName(opts.hostname ?? osHostname(), paths.root),
      listen: DEFAULT_LISTEN,
      advertise: [],
      sync_interval: DEFAULT_SYNC_INTERVAL_S,
      public_prefixes: [...DEFAULT_PUBLIC_PREFIXES],
      max_content_bytes: DEFAULT_MAX_CONTENT_BYTES,
      max_peer_bytes: DEFAULT_MAX_PEER_BYTES,
      allowed_origins: [],
      rendezvous: null,
    }
    if (createFileOnce(paths.podToml, formatPodConfig(config, paths.podToml))) {
      log.info({ op: 'init', msg: `pod named ${config.name}; rename it with name = "…" in pod.toml (read at start)`, path: paths.podToml })
    }
  }
  const config = loadPodConfig(paths.podToml)
  // An empty peers.toml with its comment header, so the operator finds the file the docs name
  // (a home from before this only gets one here; its absence never meant anything).
  if (statOrNull(paths.peersToml) === null && createFileOnce(paths.peersToml, formatPeersToml([], config.pod_id))) {
    log.info({ op: 'init', path: paths.peersToml })
  }

  const identity = await createIdentity({
    podId: config.pod_id,
    name: config.name,
    privateKey: privateKey.bytes,
    vaultKey: vaultKey.bytes,
    // The token is compared as the text the CLI reads from the file, not re-encoded bytes.
    adminToken: adminToken.text,
    advertise: () => config.advertise,
  })
  const peers = new PeerRegistry({ paths, selfId: config.pod_id, log })
  const setAdvertise = (urls: string[]): string[] => {
    const next = updatePodConfig(paths.podToml, (c) => ({ ...c, advertise: urls }))
    config.advertise = next.advertise
    return next.advertise
  }
  return { paths, config, identity, peers, headers: new PeerHeaders({ dir: paths.peerHeadersDir }), setAdvertise }
}
